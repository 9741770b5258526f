// Automatic layered layout, left to right (ELK's layered algorithm), for steps without a saved position.
import ELK from 'elkjs/lib/elk.bundled.js';

import type { IStep } from './flow-document';

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 56;

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
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF'
    },
    children: steps.map(s => ({ id: s.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: steps.flatMap(s =>
      s.inputs.filter(i => ids.has(i)).map((input, n) => ({ id: `${input}->${s.id}#${n}`, sources: [input], targets: [s.id] }))
    )
  };
  const placed = await elk.layout(graph);
  return new Map((placed.children ?? []).map(c => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }]));
}
