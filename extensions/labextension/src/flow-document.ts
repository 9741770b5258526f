// The flow file as the editor sees it: the YAML (or JSON) text is the model, edited through the `yaml`
// package's Document API so comments, key order and formatting elsewhere survive every edit.
import { Document, isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';

export interface IStep {
  id: string;
  component: string;
  inputs: string[];
  with: Record<string, unknown>;
  position?: { x: number; y: number };
}

export interface IFlowView {
  name: string;
  steps: IStep[];
  /** A parse problem of the text itself (the canvas keeps its last good view meanwhile). */
  error?: string;
}

function isJson(path: string): boolean {
  return path.toLowerCase().endsWith('.json');
}

export function parse(text: string): Document {
  return parseDocument(text || 'flow: untitled\nsteps: []\n', { keepSourceTokens: false, uniqueKeys: true });
}

/** What the canvas draws: steps with their inputs (from `input` or `inputs`). */
export function view(text: string): IFlowView {
  const doc = parse(text);
  if (doc.errors.length) {
    return { name: '', steps: [], error: doc.errors[0].message };
  }
  const data = (doc.toJS() ?? {}) as Record<string, unknown>;
  const steps = Array.isArray(data.steps) ? data.steps : [];
  return {
    name: String(data.flow ?? ''),
    steps: steps
      .filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null)
      .map(s => ({
        id: String(s.id ?? ''),
        component: String(s.component ?? ''),
        inputs: s.inputs ? (s.inputs as unknown[]).map(String) : s.input ? [String(s.input)] : [],
        with: (s.with as Record<string, unknown>) ?? {},
        position: positionOf(s.ui)
      }))
  };
}

function positionOf(ui: unknown): { x: number; y: number } | undefined {
  const value = ui as { x?: unknown; y?: unknown } | undefined;
  return value && typeof value.x === 'number' && typeof value.y === 'number' ? { x: value.x, y: value.y } : undefined;
}

function stepsOf(doc: Document): YAMLSeq {
  let steps = doc.get('steps');
  if (!isSeq(steps)) {
    steps = doc.createNode([]);
    doc.set('steps', steps);
  }
  return steps as YAMLSeq;
}

function stepNode(doc: Document, id: string): YAMLMap | undefined {
  return stepsOf(doc).items.find(item => isMap(item) && item.get('id') === id) as YAMLMap | undefined;
}

function render(doc: Document, path: string): string {
  return isJson(path) ? JSON.stringify(doc.toJS(), null, 2) + '\n' : doc.toString(FORMAT);
}

const FORMAT = { lineWidth: 0, flowCollectionPadding: false };

interface IEdits {
  changed?: YAMLMap[];
  removed?: YAMLMap[];
  added?: YAMLMap[];
}

/**
 * The text with only the edited steps rewritten: each changed step's own lines are replaced, a removed
 * step's lines are cut, an added step goes after the last one. Every other byte stays as it was, so a
 * diff of a saved edit shows the edit. JSON files (and YAML without block steps to anchor on) are
 * rendered whole.
 */
function splice(text: string, doc: Document, path: string, edits: IEdits): string {
  const steps = stepsOf(doc);
  const anchored = steps.items.filter(item => isMap(item) && item.range) as YAMLMap[];
  if (isJson(path) || steps.flow || (edits.added?.length && anchored.length === 0)) {
    return render(doc, path);
  }
  const ops: [number, number, string][] = [];
  for (const node of edits.changed ?? []) {
    const [start, end] = node.range as [number, number, number];
    ops.push([start, end, indented(node, column(text, start))]);
  }
  for (const node of edits.removed ?? []) {
    const [start, end] = node.range as [number, number, number];
    ops.push([lineStart(text, start), end, '']);
  }
  if (edits.added?.length) {
    const last = anchored[anchored.length - 1].range as [number, number, number];
    const dash = column(text, anchored[0].range![0]) - 2;
    const at = last[1];
    const lead = at > 0 && text[at - 1] !== '\n' ? '\n' : '';
    const body = edits.added.map(node => ' '.repeat(dash) + '- ' + indented(node, dash + 2)).join('');
    ops.push([at, at, lead + body]);
  }
  ops.sort((a, b) => b[0] - a[0]);
  return ops.reduce((result, [start, end, replacement]) => result.slice(0, start) + replacement + result.slice(end), text);
}

/** One step as YAML, its lines after the first indented to `indent` (the step's column in the file). */
function indented(node: YAMLMap, indent: number): string {
  const copy = node.clone() as YAMLMap;
  copy.commentBefore = undefined; // stays in the file above the step
  copy.spaceBefore = false;
  const single = new Document();
  single.contents = copy;
  const lines = single.toString(FORMAT).replace(/\n$/, '').split('\n');
  return lines.map((line, i) => (i === 0 || !line ? line : ' '.repeat(indent) + line)).join('\n') + '\n';
}

function column(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** A fresh id for a new step of `component` (`read_csv`, `read_csv_2`, ...). */
export function freshId(text: string, component: string): string {
  const taken = new Set(view(text).steps.map(s => s.id));
  let id = component;
  for (let n = 2; taken.has(id); n++) {
    id = `${component}_${n}`;
  }
  return id;
}

const STEP_ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Why `id` cannot name a new or renamed step, or '' when it can (the server's own rule). */
export function badId(text: string, id: string): string {
  if (!STEP_ID.test(id)) {
    return `a step id starts with a letter or '_' and holds only letters, digits, '_' or '-'`;
  }
  return view(text).steps.some(s => s.id === id) ? `a step named ${id} exists already` : '';
}

export function addStep(
  text: string,
  path: string,
  component: string,
  input?: string,
  params: Record<string, unknown> = {}
): { text: string; id: string } {
  const doc = parse(text);
  const id = freshId(text, component);
  const step: Record<string, unknown> = { id, component };
  if (input) {
    step.input = input;
  }
  step.with = params;
  const node = doc.createNode(step) as YAMLMap;
  const steps = stepsOf(doc);
  if (steps.items.length === 0) {
    steps.flow = false; // a new flow's `steps: []` becomes a block list, as a person would write it
  }
  steps.add(node);
  return { text: splice(text, doc, path, { added: [node] }), id };
}

export function removeStep(text: string, path: string, id: string): string {
  const doc = parse(text);
  const steps = stepsOf(doc);
  const removed = steps.items.filter(item => isMap(item) && item.get('id') === id) as YAMLMap[];
  steps.items = steps.items.filter(item => !removed.includes(item as YAMLMap));
  const changed: YAMLMap[] = [];
  for (const item of steps.items) {
    if (!isMap(item)) {
      continue;
    }
    let touched = false;
    if (item.get('input') === id) {
      item.delete('input');
      touched = true;
    }
    const inputs = item.get('inputs');
    if (isSeq(inputs) && inputs.items.some(i => scalar(i) === id)) {
      inputs.items = inputs.items.filter(i => scalar(i) !== id);
      touched = true;
    }
    if (touched) {
      changed.push(item);
    }
  }
  return splice(text, doc, path, { changed, removed });
}

function scalar(node: unknown): string {
  return String((node as { value?: unknown })?.value ?? node);
}

/** Rename a step and every reference to it as an input, so ids stay valid. */
export function renameStep(text: string, path: string, from: string, to: string): string {
  const doc = parse(text);
  const changed: YAMLMap[] = [];
  for (const item of stepsOf(doc).items) {
    if (!isMap(item)) {
      continue;
    }
    let touched = false;
    if (item.get('id') === from) {
      item.set('id', to);
      touched = true;
    }
    if (item.get('input') === from) {
      item.set('input', to);
      touched = true;
    }
    const inputs = item.get('inputs');
    if (isSeq(inputs) && inputs.items.some(i => scalar(i) === from)) {
      inputs.items = inputs.items.map(i => (scalar(i) === from ? doc.createNode(to) : i));
      touched = true;
    }
    if (touched) {
      changed.push(item);
    }
  }
  return splice(text, doc, path, { changed });
}

/** Connect `source` into `target`: its one input, or one more of its `inputs` (joins take two). */
export function connect(text: string, path: string, source: string, target: string, maxInputs: number | null): string {
  const doc = parse(text);
  const node = stepNode(doc, target);
  if (!node || source === target) {
    return text;
  }
  const current = view(text).steps.find(s => s.id === target)?.inputs ?? [];
  if (current.includes(source)) {
    return text;
  }
  if (maxInputs === 1) {
    node.delete('inputs');
    node.set('input', source);
  } else {
    node.delete('input');
    node.set('inputs', doc.createNode([...current, source], { flow: true }));
  }
  return splice(text, doc, path, { changed: [node] });
}

/** Replace a step's `with:` block. */
export function setParams(text: string, path: string, id: string, params: Record<string, unknown>): string {
  const doc = parse(text);
  const node = stepNode(doc, id);
  if (!node) {
    return text;
  }
  const before = node.get('with', true);
  const short = JSON.stringify(params).length <= 80;
  node.set('with', doc.createNode(params, { flow: short && (!isMap(before) || before.flow === true) }));
  return splice(text, doc, path, { changed: [node] });
}

/** Remember where a step sits on the canvas (`ui: {x, y}`, which the engine ignores). */
export function setPosition(text: string, path: string, id: string, x: number, y: number): string {
  const doc = parse(text);
  const node = stepNode(doc, id);
  if (!node) {
    return text;
  }
  node.set('ui', doc.createNode({ x: Math.round(x), y: Math.round(y) }, { flow: true }));
  return splice(text, doc, path, { changed: [node] });
}
