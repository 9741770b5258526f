import { describe, expect, it } from 'vitest';

import { depth, layout, NODE_HEIGHT, NODE_WIDTH } from './layout';

const chain = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `s${i}`, component: 'derive', inputs: i ? [`s${i - 1}`] : [], with: {} }) as any);

describe('layout', () => {
  it('places every step once, left to right, without overlaps', async () => {
    const placed = await layout(chain(5));
    expect([...placed.keys()]).toEqual(['s0', 's1', 's2', 's3', 's4']);
    const xs = [...placed.values()].map(p => p.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
  });

  it('wraps a long chain into rows so that it still reads once fitted', async () => {
    const placed = [...(await layout(chain(50))).values()];
    const width = Math.max(...placed.map(p => p.x)) + NODE_WIDTH;
    const height = Math.max(...placed.map(p => p.y)) + NODE_HEIGHT;
    expect(width / height).toBeLessThan(6); // one row would be about 200 times wider than high
    const boxes = new Set(placed.map(p => `${p.x},${p.y}`));
    expect(boxes.size).toBe(50);
  });
});

describe('depth', () => {
  it('counts the steps on the longest path, whatever branches', () => {
    const steps = [...chain(4), { id: 'side', component: 'filter', inputs: ['s0'], with: {} } as any];
    expect(depth(steps)).toBe(4);
    expect(depth([])).toBe(0);
    expect(depth([{ id: 'a', component: 'x', inputs: ['a'], with: {} } as any])).toBe(1);
  });
});
