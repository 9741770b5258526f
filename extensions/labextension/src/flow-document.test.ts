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
  it('turns a new flow\'s empty `steps: []` into a block list', () => {
    const first = addStep('flow: untitled\nparameters: {}\nsteps: []\n', 'u.flow.yaml', 'read_csv').text;
    const second = addStep(first, 'u.flow.yaml', 'filter', 'read_csv').text;
    expect(second).toBe(
      'flow: untitled\nparameters: {}\nsteps:\n  - id: read_csv\n    component: read_csv\n    with: {}\n' +
        '  - id: filter\n    component: filter\n    input: read_csv\n    with: {}\n'
    );
  });
  it('writes JSON for .flow.json files', () => {
    const text = addStep('{"flow": "j", "steps": []}', 'j.flow.json', 'read_csv').text;
    expect(JSON.parse(text)).toEqual({ flow: 'j', steps: [{ id: 'read_csv', component: 'read_csv', with: {} }] });
  });
});

describe('an edit rewrites only the lines it changes', () => {
  const TEXT = `flow: report
description: >-
  A long folded description that a formatter
  would fold differently
parameters:
  min: {type: number, default: 1}
steps:
  - id: orders   # spaced comment
    component: read_csv
    with: {path: data/orders.csv}

  # about big
  - id: big
    component: filter
    input: orders
    with: {condition: "amount > @min"}
`;
  it('keeps every other byte when a step changes, is added or removed', () => {
    const params = setParams(TEXT, 'r.flow.yaml', 'big', { condition: 'amount > 2' });
    expect(params).toBe(TEXT.replace('with: {condition: "amount > @min"}', 'with: {condition: amount > 2}'));
    const added = addStep(TEXT, 'r.flow.yaml', 'sort', 'big').text;
    expect(added).toBe(TEXT + '  - id: sort\n    component: sort\n    input: big\n    with: {}\n');
    const removed = removeStep(TEXT, 'r.flow.yaml', 'orders');
    expect(removed).toContain('A long folded description that a formatter\n  would fold differently');
    expect(removed).not.toContain('read_csv');
    expect(view(removed).steps.map(s => [s.id, s.inputs])).toEqual([['big', []]]);
    expect(removed).toContain('# about big');
  });
  it('opens and saves every example flow of the repository unchanged', async () => {
    const fs = await import('fs');
    const path = await import('path');
    const root = path.resolve(__dirname, '../../..');
    const examples = ['aqtra_nb/examples', 'notebooks/flows', 'notebooks/workflows']
      .flatMap(folder => fs.readdirSync(path.join(root, folder)).filter(f => f.endsWith('.flow.yaml')).map(f => path.join(root, folder, f)));
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const file of examples) {
      const text = fs.readFileSync(file, 'utf8');
      const flow = view(text);
      expect(flow.error).toBeUndefined();
      expect(flow.steps.length).toBeGreaterThan(0);
      const first = flow.steps[flow.steps.length - 1];
      const touched = setParams(text, file, first.id, first.with); // the same parameters: nothing to change but that step's layout
      expect(view(touched).steps).toEqual(flow.steps);
      const other = text.split('\n').filter(line => !touched.includes(line));
      expect(other.length).toBeLessThanOrEqual(Object.keys(first.with).length + 2);
    }
  });
});

describe('step ids', () => {
  it('follow the server rule and stay unique', async () => {
    const { badId } = await import('./flow-document');
    expect(badId(FLOW, 'orders')).toMatch(/exists already/);
    expect(badId(FLOW, '1st')).toMatch(/starts with a letter/);
    expect(badId(FLOW, 'has space')).toMatch(/starts with a letter/);
    expect(badId(FLOW, 'clean_orders-2')).toBe('');
  });
});
