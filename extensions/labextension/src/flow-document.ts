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
  return isJson(path) ? JSON.stringify(doc.toJS(), null, 2) + '\n' : doc.toString({ lineWidth: 110 });
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

export function addStep(text: string, path: string, component: string, input?: string): { text: string; id: string } {
  const doc = parse(text);
  const id = freshId(text, component);
  const step: Record<string, unknown> = { id, component };
  if (input) {
    step.input = input;
  }
  step.with = {};
  stepsOf(doc).add(doc.createNode(step));
  return { text: render(doc, path), id };
}

export function removeStep(text: string, path: string, id: string): string {
  const doc = parse(text);
  const steps = stepsOf(doc);
  steps.items = steps.items.filter(item => !(isMap(item) && item.get('id') === id));
  for (const item of steps.items) {
    if (!isMap(item)) {
      continue;
    }
    if (item.get('input') === id) {
      item.delete('input');
    }
    const inputs = item.get('inputs');
    if (isSeq(inputs)) {
      inputs.items = inputs.items.filter(i => String((i as { value?: unknown }).value ?? i) !== id);
    }
  }
  return render(doc, path);
}

/** Rename a step and every reference to it as an input, so ids stay valid. */
export function renameStep(text: string, path: string, from: string, to: string): string {
  const doc = parse(text);
  for (const item of stepsOf(doc).items) {
    if (!isMap(item)) {
      continue;
    }
    if (item.get('id') === from) {
      item.set('id', to);
    }
    if (item.get('input') === from) {
      item.set('input', to);
    }
    const inputs = item.get('inputs');
    if (isSeq(inputs)) {
      inputs.items = inputs.items.map(i => (String((i as { value?: unknown }).value ?? i) === from ? doc.createNode(to) : i));
    }
  }
  return render(doc, path);
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
    node.set('inputs', doc.createNode([...current, source]));
  }
  return render(doc, path);
}

/** Replace a step's `with:` block. */
export function setParams(text: string, path: string, id: string, params: Record<string, unknown>): string {
  const doc = parse(text);
  const node = stepNode(doc, id);
  if (!node) {
    return text;
  }
  node.set('with', doc.createNode(params));
  return render(doc, path);
}

/** Remember where a step sits on the canvas (`ui: {x, y}`, which the engine ignores). */
export function setPosition(text: string, path: string, id: string, x: number, y: number): string {
  const doc = parse(text);
  const node = stepNode(doc, id);
  if (!node) {
    return text;
  }
  node.set('ui', doc.createNode({ x: Math.round(x), y: Math.round(y) }));
  return render(doc, path);
}
