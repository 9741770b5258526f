// Automatic layered layout, left to right (ELK's layered algorithm), for steps without a saved position.
import ELK from 'elkjs/lib/elk.bundled.js';

import type { IStep } from './flow-document';

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 56;

const WRAP_AFTER = 8; // steps on the longest path

const elk = new ELK();

export async function layout(steps: IStep[]): Promise<Map<string, { x: number; y: number }>> {
  const ids = new Set(steps.map(s => s.id));
  const graph = {
    id: 'flow',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '30',
      'elk.layered.spacing.nodeNodeBetweenLayers': '60',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      // a long flow wraps into rows instead of one line too wide to read once fitted; a short one not
      ...(depth(steps) > WRAP_AFTER ? { 'elk.layered.wrapping.strategy': 'MULTI_EDGE', 'elk.aspectRatio': '2' } : {})
    },
    children: steps.map(s => ({ id: s.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: steps.flatMap(s =>
      s.inputs.filter(i => ids.has(i)).map((input, n) => ({ id: `${input}->${s.id}#${n}`, sources: [input], targets: [s.id] }))
    )
  };
  const placed = await elk.layout(graph);
  return new Map((placed.children ?? []).map(c => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }]));
}

/** The number of steps on the longest path through the flow (its layers, laid out in one row). */
export function depth(steps: IStep[]): number {
  const byId = new Map(steps.map(s => [s.id, s]));
  const memo = new Map<string, number>();
  const visit = (id: string, seen: Set<string>): number => {
    if (memo.has(id)) {
      return memo.get(id)!;
    }
    if (seen.has(id)) {
      return 0; // a cycle: the server reports it
    }
    seen.add(id);
    const inputs = (byId.get(id)?.inputs ?? []).filter(i => byId.has(i));
    const found = 1 + Math.max(0, ...inputs.map(i => visit(i, seen)));
    seen.delete(id);
    memo.set(id, found);
    return found;
  };
  return Math.max(0, ...steps.map(s => visit(s.id, new Set())));
}
