import { describe, expect, it } from 'vitest';

import { addStep, connect, freshId, removeStep, renameStep, setParams, view } from './flow-document';

const FLOW = `# sales report
flow: sales
steps:
  - id: orders   # the raw file
    component: read_csv
    with: {path: data/orders.csv}
  - id: big
    component: filter
    input: orders
    with: {condition: "amount > 1"}
`;

describe('view', () => {
  it('lists steps with their inputs', () => {
    const flow = view(FLOW);
    expect(flow.name).toBe('sales');
    expect(flow.steps.map(s => [s.id, s.component, s.inputs])).toEqual([
      ['orders', 'read_csv', []],
      ['big', 'filter', ['orders']]
    ]);
  });
  it('reports text that is not YAML instead of throwing', () => {
    expect(view('flow: [').error).toBeTruthy();
    expect(view('a: 1\na: 2\n').error).toMatch(/unique|duplicate/i);
  });
});

describe('edits keep comments and order', () => {
  it('adds, connects, renames, sets parameters and removes', () => {
    const added = addStep(FLOW, 'f.flow.yaml', 'aggregate', 'big');
    expect(added.id).toBe('aggregate');
    expect(freshId(added.text, 'aggregate')).toBe('aggregate_2');
    let text = setParams(added.text, 'f.flow.yaml', 'aggregate', { by: ['region'], aggregations: { n: 'count()' } });
    text = renameStep(text, 'f.flow.yaml', 'big', 'large');
    expect(view(text).steps.map(s => [s.id, s.inputs])).toEqual([
      ['orders', []],
      ['large', ['orders']],
      ['aggregate', ['large']]
    ]);
    expect(text).toContain('# sales report');
    expect(text).toContain('# the raw file');
    text = connect(text, 'f.flow.yaml', 'orders', 'aggregate', null);
    expect(view(text).steps[2].inputs).toEqual(['large', 'orders']);
    text = removeStep(text, 'f.flow.yaml', 'large');
    expect(view(text).steps.map(s => [s.id, s.inputs])).toEqual([
      ['orders', []],
      ['aggregate', ['orders']]
    ]);
    expect(text.indexOf('# sales report')).toBe(0);
  });
  it('writes JSON for .flow.json files', () => {
    const text = addStep('{"flow": "j", "steps": []}', 'j.flow.json', 'read_csv').text;
    expect(JSON.parse(text)).toEqual({ flow: 'j', steps: [{ id: 'read_csv', component: 'read_csv', with: {} }] });
  });
});
