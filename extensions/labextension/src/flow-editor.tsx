// The visual flow editor: a canvas of steps (React Flow, ELK layout), a palette of components, a
// properties form for the selected step (its JSON Schema, JupyterLab's FormComponent), problems from the
// server's validation and a preview of the selected step's rows. The text is the model: every edit goes
// through `flow-document.ts` into the file, and every change of the file redraws the canvas.
import { FormComponent } from '@jupyterlab/ui-components';
import validator from '@rjsf/validator-ajv8';
import {
  Background,
  BaseEdge,
  EdgeProps,
  getBezierPath,
  MarkerType,
  Connection,
  Controls,
  Edge,
  Handle,
  MiniMap,
  Node,
  NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useNodesInitialized,
  useNodesState,
  useReactFlow
} from '@xyflow/react';
import * as React from 'react';

import { AqtraApi, ApiError, ComponentInfo, PreviewResponse, ValidateResponse } from './api';
import * as flow from './flow-document';
import { completions, wordBefore } from './completion';
import { layout, NODE_HEIGHT, NODE_WIDTH } from './layout';
import { withoutDefaults } from './params';

// Where a node's edges attach, given with the node: React Flow then knows them without measuring the
// node first (a node re-created before it was measured would otherwise have none, and no edge).
const HANDLES = [
  { type: 'target' as const, position: Position.Left, x: -4, y: NODE_HEIGHT / 2 - 4, width: 8, height: 8 },
  { type: 'source' as const, position: Position.Right, x: NODE_WIDTH - 4, y: NODE_HEIGHT / 2 - 4, width: 8, height: 8 }
];

export interface IEditorModel {
  text(): string;
  setText(text: string): void;
  path(): string;
  onChange(callback: () => void): () => void;
  save(): Promise<void>;
  undo(): void;
  redo(): void;
}

/** What the editor's commands (palette, shortcuts, toolbar) can ask of one open editor. */
export interface IFlowActions {
  run(): Promise<void>;
  openInNotebook(): Promise<void>;
  fit(): void;
  undo(): void;
  redo(): void;
  renameSelected(): void;
  deleteSelected(): void;
  editParameters(): void;
}

/** Opens a notebook next to the flow with a cell that loads and runs it (given by the host). */
export type OpenInNotebook = (path: string, parameters: Record<string, unknown>) => Promise<void>;

interface IStepRun {
  status: string;
  rows?: number | null;
  seconds?: number | null;
  cached?: boolean;
}

interface IStepData extends Record<string, unknown> {
  step: flow.IStep;
  onRename: (from: string, to: string) => string;
  renaming: boolean;
  onRenameEnd: () => void;
  status: string;
  rows?: number | null;
  cached?: boolean;
  problem?: string;
  columns?: Record<string, string>;
}

const GROUPS = ['input', 'transform', 'output', 'script'];

function StepNode({ data, selected }: NodeProps<Node<IStepData>>): JSX.Element {
  const { step, status, rows, cached, problem, columns, onRename, renaming, onRenameEnd } = data;
  const [draft, setDraft] = React.useState(step.id);
  const [renameError, setRenameError] = React.useState('');
  const hover = problem
    ? problem
    : columns
      ? Object.entries(columns)
          .map(([name, dtype]) => `${name}: ${dtype}`)
          .join('\n')
      : step.component;
  return (
    <div
      className={`aqtra-node${selected ? ' aqtra-selected' : ''}${problem ? ' aqtra-node-problem' : ''}`}
      data-aqtra-step={step.id}
      data-aqtra-component={step.component}
      data-aqtra-status={status}
      data-aqtra-rows={rows ?? ''}
      data-aqtra-cached={cached ? 'true' : 'false'}
      title={hover}
    >
      <Handle type="target" position={Position.Left} />
      {renaming ? (
        <input
          className="aqtra-rename nodrag"
          autoFocus
          value={draft}
          title={renameError}
          onChange={event => setDraft(event.target.value)}
          onKeyDown={event => {
            event.stopPropagation();
            if (event.key === 'Enter') {
              const problem = draft === step.id ? '' : onRename(step.id, draft);
              setRenameError(problem);
              if (!problem) {
                onRenameEnd();
              }
            } else if (event.key === 'Escape') {
              setRenameError('');
              setDraft(step.id);
              onRenameEnd();
            }
          }}
          onBlur={() => {
            setRenameError('');
            onRenameEnd();
          }}
        />
      ) : (
        <div className="aqtra-node-id" title="Double-click to rename">
          {step.id}
        </div>
      )}
      {renameError && <div className="aqtra-rename-error">{renameError}</div>}
      <div className="aqtra-node-component">
        {step.component}
        {rows !== undefined && rows !== null && <span className="aqtra-node-rows"> · {rows} rows</span>}
        {cached && (
          <span className="aqtra-node-cached" title="Not run: its output came from the step cache">
            {' '}
            · cached
          </span>
        )}
      </div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const NODE_TYPES = { step: StepNode };

function StepEdge(props: EdgeProps): JSX.Element {
  const [path] = getBezierPath(props);
  return (
    <g data-aqtra-edge={props.id}>
      <BaseEdge id={props.id} path={path} markerEnd={props.markerEnd} />
    </g>
  );
}

const EDGE_TYPES = { step: StepEdge };

function Palette({ components, onAdd }: { components: ComponentInfo[]; onAdd: (name: string) => void }): JSX.Element {
  const [search, setSearch] = React.useState('');
  const shown = components.filter(c => !search || c.name.includes(search) || c.description.toLowerCase().includes(search.toLowerCase()));
  return (
    <div className="aqtra-palette">
      <input
        className="jp-mod-styled aqtra-palette-search"
        placeholder="Search components"
        value={search}
        onChange={event => setSearch(event.target.value)}
      />
      {GROUPS.map(group => (
        <div key={group} className="aqtra-palette-group">
          <div className="aqtra-palette-title">{group}</div>
          {shown
            .filter(c => c.group === group)
            .map(c => (
              <div
                key={c.name}
                className="aqtra-palette-item"
                data-aqtra-component={c.name}
                title={c.description}
                draggable
                onDragStart={event => event.dataTransfer.setData('application/aqtra-component', c.name)}
                onDoubleClick={() => onAdd(c.name)}
              >
                {c.name}
              </div>
            ))}
        </div>
      ))}
    </div>
  );
}

function Preview({ preview, error, seconds }: { preview: PreviewResponse | null; error: string; seconds: number | null }): JSX.Element {
  if (error) {
    return <div className="aqtra-preview aqtra-error">{error}</div>;
  }
  if (!preview) {
    return <div className="aqtra-preview aqtra-empty">Select a step to see its first rows.</div>;
  }
  const columns = Object.keys(preview.columns);
  return (
    <div className="aqtra-preview" data-aqtra-rows={preview.rows.length}>
      <div className="aqtra-preview-head">
        {preview.step}: {preview.rows.length} rows{seconds !== null && ` in ${seconds.toFixed(2)} s`}
      </div>
      <table>
        <thead>
          <tr>
            {columns.map(c => (
              <th key={c} title={preview.columns[c]}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {preview.rows.map((row, i) => (
            <tr key={i}>
              {row.map((value, j) => (
                <td key={j}>{value === null ? '' : String(value)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function FlowEditor({
  model,
  api,
  bind,
  openInNotebook
}: {
  model: IEditorModel;
  api: AqtraApi;
  bind?: (actions: IFlowActions) => void;
  openInNotebook?: OpenInNotebook;
}): JSX.Element {
  const [text, setText] = React.useState(model.text());
  const [params, setParams] = React.useState<Record<string, unknown>>({});
  const fitRef = React.useRef<() => void>(() => undefined);
  const [components, setComponents] = React.useState<ComponentInfo[]>([]);
  const [positions, setPositions] = React.useState(new Map<string, { x: number; y: number }>());
  const [laidOut, setLaidOut] = React.useState(0); // counts layouts: each one fits the view
  const [selected, setSelected] = React.useState<string | null>(null);
  const [checked, setChecked] = React.useState<ValidateResponse | null>(null);
  const [preview, setPreview] = React.useState<PreviewResponse | null>(null);
  const [previewError, setPreviewError] = React.useState('');
  const [seconds, setSeconds] = React.useState<number | null>(null);
  const [error, setError] = React.useState('');
  const [runs, setRuns] = React.useState(new Map<string, IStepRun>());
  const [runState, setRunState] = React.useState('');
  const parsed = React.useMemo(() => flow.view(text), [text]);
  const [shown, setShown] = React.useState<flow.IFlowView>(parsed);

  React.useEffect(() => model.onChange(() => setText(model.text())), [model]);
  React.useEffect(() => {
    api.components().then(
      reply => setComponents(reply.components),
      reason => setError(`cannot load the components: ${reason.message ?? reason}`)
    );
  }, [api]);
  React.useEffect(() => {
    if (!parsed.error) {
      setShown(parsed);
    }
  }, [parsed]);
  React.useEffect(() => {
    let live = true;
    void layout(shown.steps).then(placed => {
      if (live) {
        setPositions(placed);
        setLaidOut(n => n + 1);
      }
    });
    return () => {
      live = false;
    };
  }, [shown.steps.map(s => `${s.id}<${s.inputs.join(',')}`).join(';')]);

  // server validation, a moment after the last edit
  React.useEffect(() => {
    if (parsed.error || !text.trim()) {
      return; // nothing to check yet (the file is still loading) or text the canvas cannot read
    }
    const timer = window.setTimeout(() => {
      api.validate(text, params, model.path()).then(setChecked, reason => setError(String(reason.message ?? reason)));
    }, 300);
    return () => window.clearTimeout(timer);
  }, [text, params]);

  // preview of the selected step, refreshed after edits
  React.useEffect(() => {
    if (!selected || parsed.error) {
      setPreview(null);
      return;
    }
    const timer = window.setTimeout(() => {
      const started = performance.now();
      api.preview(text, selected, 20, model.path(), params).then(
        reply => {
          setPreview(reply);
          setPreviewError('');
          setSeconds((performance.now() - started) / 1000);
        },
        reason => {
          setPreview(null);
          setPreviewError(reason instanceof ApiError ? reason.message : String(reason));
        }
      );
    }, 200);
    return () => window.clearTimeout(timer);
  }, [selected, text, params]);

  const run = async () => {
    try {
      await model.save();
      const { run_id } = await api.startRun(model.path(), params);
      setRuns(new Map(shown.steps.map(step => [step.id, { status: 'idle' }])));
      setRunState(`run ${run_id.slice(0, 8)}: queued`);
      follow(api.eventsUrl(run_id), setRuns, setRunState, run_id);
    } catch (reason) {
      setRunState('');
      setError(reason instanceof ApiError ? reason.message : String(reason));
    }
  };
  const edit = (next: string) => {
    if (next !== text) {
      model.setText(next);
      setText(next);
    }
  };
  const add = (component: string) => {
    const added = flow.addStep(text, model.path(), component, selected ?? undefined);
    edit(added.text);
    setSelected(added.id);
  };
  const rename = (from: string, to: string): string => {
    const problem = flow.badId(text, to);
    if (!problem) {
      edit(flow.renameStep(text, model.path(), from, to));
      setSelected(to);
    }
    return problem;
  };
  const [copied, setCopied] = React.useState<flow.IStep | null>(null);
  const touched = React.useRef<string | null>(null); // the step whose form the user has focused
  const [renaming, setRenaming] = React.useState<string | null>(null);
  // The canvas's nodes are React Flow state (`useNodesState`): React Flow writes each node's measured
  // size and drag position into it; what the file says (steps, positions, status, problems) is merged
  // in, keeping those, so a node never loses its measured handles (no edge could reach it then).
  const [rfNodes, setRfNodes, onNodesChange] = useNodesState<Node<IStepData>>([]);
  const handlers = React.useRef<{ rename: (from: string, to: string) => string; endRename: () => void }>({
    rename: () => '',
    endRename: () => undefined
  });
  const problems = checked?.errors ?? [];
  const byStep = new Map(problems.filter(p => p.step).map(p => [p.step as string, p]));

  handlers.current = { rename, endRename: () => setRenaming(null) };
  const showParameters = React.useRef<HTMLDivElement>(null);
  const toNotebook = async () => {
    if (!openInNotebook) {
      return;
    }
    try {
      await model.save();
      await openInNotebook(model.path(), params);
    } catch (reason) {
      setError(`cannot open a notebook: ${reason instanceof Error ? reason.message : String(reason)}`);
    }
  };
  bind?.({
    run,
    openInNotebook: toNotebook,
    fit: () => fitRef.current(),
    undo: () => model.undo(),
    redo: () => model.redo(),
    renameSelected: () => {
      if (selected) {
        setRenaming(selected);
      }
    },
    deleteSelected: () => {
      if (selected) {
        edit(flow.removeStep(text, model.path(), selected));
        setSelected(null);
      }
    },
    editParameters: () => {
      setSelected(null);
      window.requestAnimationFrame(() => showParameters.current?.querySelector<HTMLElement>('input, select')?.focus());
    }
  });
  const nodes: Node<IStepData>[] = shown.steps.map(step => ({
    id: step.id,
    type: 'step',
    position: step.position ?? positions.get(step.id) ?? { x: 0, y: 0 },
    handles: HANDLES,
    selected: step.id === selected,
    data: {
      step,
      onRename: (from: string, to: string) => handlers.current.rename(from, to),
      renaming: renaming === step.id,
      onRenameEnd: () => handlers.current.endRename(),
      status: runs.get(step.id)?.status ?? 'idle',
      rows: runs.get(step.id)?.rows,
      cached: runs.get(step.id)?.cached,
      problem: byStep.get(step.id) ? `${byStep.get(step.id)?.field ?? ''}: ${byStep.get(step.id)?.error}` : undefined,
      columns: checked?.steps?.[step.id]?.columns
    }
  }));
  const nodesKey = JSON.stringify(nodes.map(n => [n.id, n.position, n.selected, { ...n.data, onRename: 0, onRenameEnd: 0 }]));
  React.useEffect(() => {
    setRfNodes(previous => {
      const before = new Map(previous.map(node => [node.id, node]));
      return nodes.map(node => {
        const old = before.get(node.id);
        return old ? { ...old, ...node, measured: old.measured, position: old.dragging ? old.position : node.position } : node;
      });
    });
  }, [nodesKey]);
  // whether React Flow's nodes stand where the last layout (or the file) put them
  const placed = shown.steps.every(step => {
    const want = step.position ?? positions.get(step.id);
    const node = rfNodes.find(n => n.id === step.id);
    return want !== undefined && node !== undefined && node.position.x === want.x && node.position.y === want.y;
  });
  const edges: Edge[] = shown.steps.flatMap(step =>
    step.inputs.map(input => ({
      id: `${input}->${step.id}`,
      source: input,
      target: step.id,
      type: 'step',
      markerEnd: { type: MarkerType.ArrowClosed }
    }))
  );
  const info = (name: string) => components.find(c => c.name === name);
  const current = shown.steps.find(s => s.id === selected);
  /** The columns a step's expressions can use: its inputs' inferred columns (the server's validation). */
  const inputColumns = (step: flow.IStep): Record<string, string> =>
    Object.assign({}, ...step.inputs.map(input => checked?.steps?.[input]?.columns ?? {}));

  return (
    <div
      className="aqtra-flow-editor"
      tabIndex={-1}
      onKeyDown={event => {
        const mod = event.ctrlKey || event.metaKey;
        const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes((event.target as HTMLElement).tagName);
        if (mod && !typing && event.key.toLowerCase() === 'c' && selected) {
          setCopied(shown.steps.find(s => s.id === selected) ?? null);
        } else if (mod && !typing && event.key.toLowerCase() === 'v' && copied) {
          event.preventDefault();
          const pasted = flow.addStep(text, model.path(), copied.component, selected ?? undefined, copied.with);
          edit(pasted.text);
          setSelected(pasted.id);
        } else if (mod && !typing && event.key.toLowerCase() === 'z') {
          event.preventDefault();
          if (event.shiftKey) {
            model.redo();
          } else {
            model.undo();
          }
        }
      }}
    >
      <Palette components={components} onAdd={add} />
      <div
        className="aqtra-canvas"
        onDragOver={event => event.preventDefault()}
        onDrop={event => {
          const name = event.dataTransfer.getData('application/aqtra-component');
          if (name) {
            add(name);
          }
        }}
      >
        <div className="aqtra-toolbar">
          <button className="jp-Button jp-mod-styled jp-mod-accept aqtra-run-button" onClick={() => void run()}>
            ▶ Run
          </button>
          <button className="jp-Button jp-mod-styled" title="Undo (Ctrl+Z)" onClick={() => model.undo()}>
            ↶
          </button>
          <button className="jp-Button jp-mod-styled" title="Redo (Ctrl+Shift+Z)" onClick={() => model.redo()}>
            ↷
          </button>
          {openInNotebook && (
            <button className="jp-Button jp-mod-styled aqtra-notebook-button" title="Open in a notebook: a cell that loads this flow and shows its result" onClick={() => void toNotebook()}>
              Open in notebook
            </button>
          )}
          <span className="aqtra-run-state">{runState}</span>
        </div>
        {parsed.error && <div className="aqtra-error aqtra-parse-error">{parsed.error}</div>}
        {error && <div className="aqtra-error">{error}</div>}
        <ReactFlowProvider>
          <FitOnLayout version={laidOut} placed={placed} fitRef={fitRef} />
          <ReactFlow
            nodes={rfNodes}
            minZoom={0.2}
            maxZoom={1.5}
            edges={edges}
            nodeTypes={NODE_TYPES}
            edgeTypes={EDGE_TYPES}
            fitView
            onNodeClick={(_, node) => setSelected(node.id)}
            onNodeDoubleClick={(_, node) => setRenaming(node.id)}
            zoomOnDoubleClick={false}
            onPaneClick={() => setSelected(null)}
            onConnect={(connection: Connection) =>
              edit(flow.connect(text, model.path(), connection.source, connection.target, info(shown.steps.find(s => s.id === connection.target)?.component ?? '')?.max_inputs ?? 1))
            }
            onNodesDelete={deleted => edit(deleted.reduce((t, n) => flow.removeStep(t, model.path(), n.id), text))}
            onNodesChange={onNodesChange}
            onNodeDragStop={(_, node) => edit(flow.setPosition(text, model.path(), node.id, node.position.x, node.position.y))}
            deleteKeyCode={['Delete', 'Backspace']}
          >
            <Background />
            <Controls />
            <MiniMap pannable zoomable />
          </ReactFlow>
        </ReactFlowProvider>
      </div>
      <div className="aqtra-side">
        <div className="aqtra-problems">
          {problems.map((p, i) => (
            <div key={i} className="aqtra-problem" data-aqtra-step={p.step ?? ''} data-aqtra-field={p.field ?? ''} onClick={() => p.step && setSelected(p.step)}>
              {p.step ? `${p.step}${p.field ? `.${p.field}` : ''}: ` : ''}
              {p.error}
              {p.line ? ` (line ${p.line})` : ''}
            </div>
          ))}
        </div>
        {current && info(current.component) && (
          <div className="aqtra-step-form" data-aqtra-step={current.id} onFocusCapture={() => (touched.current = current.id)}>
            <div className="aqtra-form-title">
              {current.id} <span className="aqtra-node-component">{current.component}</span>
            </div>
            <FormComponent
              schema={info(current.component)!.parameters as any}
              formData={current.with as any}
              validator={validator as any}
              liveValidate={false}
              widgets={{ TextWidget: ColumnTextWidget } as any}
              formContext={{ columns: inputColumns(current), parameters: Object.keys((checked?.parameters as any)?.properties ?? {}) }}
              extraErrors={fieldErrors(problems, current.id) as any}
              showErrorList={false}
              onChange={(event: { formData?: Record<string, unknown> }) => {
                // rjsf reports its defaults on mount: only what the user changes goes into the file
                const next = event.formData && withoutDefaults(event.formData, info(current.component)!.parameters as any, current.with);
                if (touched.current === current.id && next && JSON.stringify(next) !== JSON.stringify(current.with)) {
                  edit(flow.setParams(text, model.path(), current.id, next));
                }
              }}
            />
          </div>
        )}
        {!current && Object.keys((checked?.parameters as any)?.properties ?? {}).length > 0 && (
          <div className="aqtra-run-parameters" ref={showParameters}>
            <div className="aqtra-form-title">Run parameters</div>
            <FormComponent
              schema={checked!.parameters as any}
              formData={params as any}
              validator={validator as any}
              liveValidate={false}
              showErrorList={false}
              extraErrors={fieldErrors(problems, null) as any}
              onChange={(event: { formData?: Record<string, unknown> }) => {
                const next = clean(event.formData ?? {});
                if (JSON.stringify(next) !== JSON.stringify(params)) {
                  setParams(next);
                }
              }}
            />
          </div>
        )}
        <Preview preview={preview} error={previewError} seconds={seconds} />
      </div>
    </div>
  );
}

/** Fit the view to the steps each time a new layout is applied, once React Flow has the laid-out
 * positions (`placed`) and has measured the nodes: fitting earlier fits the positions from before the
 * layout (one node at the origin, the rest off screen). */
function FitOnLayout({
  version,
  placed,
  fitRef
}: {
  version: number;
  placed: boolean;
  fitRef: React.MutableRefObject<() => void>;
}): null {
  const { fitView } = useReactFlow();
  const initialized = useNodesInitialized();
  const fitted = React.useRef(0);
  fitRef.current = () => void fitView({ padding: 0.15 });
  React.useEffect(() => {
    if (version > fitted.current && placed && initialized) {
      const frame = window.requestAnimationFrame(() => {
        fitted.current = version;
        void fitView({ padding: 0.15 });
      });
      return () => window.cancelAnimationFrame(frame);
    }
  }, [version, placed, initialized]);
  return null;
}

/** Follow a run's server-sent events: each step's status and rows, then the run's end. */
function follow(
  url: string,
  setRuns: React.Dispatch<React.SetStateAction<Map<string, IStepRun>>>,
  setRunState: (state: string) => void,
  runId: string
): void {
  const source = new EventSource(url, { withCredentials: true });
  const step = (status: string) => (event: MessageEvent) => {
    const data = JSON.parse(event.data);
    setRuns(current =>
      new Map(current).set(data.step, { status, rows: data.rows, seconds: data.seconds, cached: !!data.cached })
    );
  };
  source.addEventListener('step_started', step('running'));
  source.addEventListener('step_finished', step('succeeded'));
  source.addEventListener('step_failed', step('failed'));
  source.addEventListener('run_started', () => setRunState(`run ${runId.slice(0, 8)}: running`));
  source.addEventListener('end', (event: MessageEvent) => {
    const data = JSON.parse(event.data);
    setRunState(`run ${runId.slice(0, 8)}: ${data.status}${data.error ? ` (${data.error})` : ''}`);
    source.close();
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      setRunState(`run ${runId.slice(0, 8)}: lost the connection`);
    }
  };
}

/** A form's data without the empty values rjsf adds for untouched optional fields. */
function clean(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

/** Validation problems of one step (or of the parameters, `step` null) as rjsf's errors by field. */
function fieldErrors(problems: { step?: string | null; field?: string | null; error: string }[], step: string | null): Record<string, unknown> {
  const errors: Record<string, { __errors: string[] }> = {};
  for (const p of problems) {
    if ((p.step ?? null) === step && p.field) {
      const key = p.field.split('.')[0];
      (errors[key] ??= { __errors: [] }).__errors.push(p.error);
    }
  }
  return errors;
}

/** rjsf's text input, with the step's input columns (and `@parameters`) offered as you type: Tab or
 * Enter takes the highlighted one, arrows move, Escape closes. */
function ColumnTextWidget(props: any): JSX.Element {
  const { id, value, required, disabled, readonly, autofocus, onChange, onBlur, onFocus, formContext, placeholder } = props;
  const columns: Record<string, string> = formContext?.columns ?? {};
  const parameters: string[] = formContext?.parameters ?? [];
  const input = React.useRef<HTMLInputElement>(null);
  const [caret, setCaret] = React.useState(0);
  const [open, setOpen] = React.useState(false);
  const [active, setActive] = React.useState(0);
  const text = value === undefined || value === null ? '' : String(value);
  const word = wordBefore(text, caret);
  const offered = open ? completions(word, Object.keys(columns), parameters) : [];
  // Where the caret goes once the taken completion is rendered: set in the same commit as the new
  // value, before the next key is handled (a later animation frame moved it back under keys typed
  // in between, so `status ==` became `status== `).
  const caretAfter = React.useRef<{ text: string; at: number } | null>(null);
  React.useLayoutEffect(() => {
    const wanted = caretAfter.current;
    if (wanted && wanted.text === text) {
      input.current?.setSelectionRange(wanted.at, wanted.at);
      caretAfter.current = null;
    }
  }, [text]);
  const take = (name: string) => {
    const start = caret - word.length;
    const next = text.slice(0, start) + name + text.slice(caret);
    const at = start + name.length;
    caretAfter.current = { text: next, at };
    onChange(next);
    setCaret(at);
    setOpen(false);
  };
  return (
    <div className="aqtra-completing">
      <input
        ref={input}
        id={id}
        className="form-control"
        value={text}
        required={required}
        disabled={disabled || readonly}
        autoFocus={autofocus}
        placeholder={placeholder}
        autoComplete="off"
        onChange={event => {
          caretAfter.current = null;
          setCaret(event.target.selectionStart ?? event.target.value.length);
          setOpen(true);
          setActive(0);
          onChange(event.target.value === '' ? undefined : event.target.value);
        }}
        onKeyDown={event => {
          if (!offered.length) {
            return;
          }
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            setActive(i => (i + (event.key === 'ArrowDown' ? 1 : offered.length - 1)) % offered.length);
          } else if (event.key === 'Tab' || event.key === 'Enter') {
            event.preventDefault();
            take(offered[Math.min(active, offered.length - 1)]);
          } else if (event.key === 'Escape') {
            setOpen(false);
          }
        }}
        onKeyUp={event => setCaret((event.target as HTMLInputElement).selectionStart ?? text.length)}
        onClick={event => setCaret((event.target as HTMLInputElement).selectionStart ?? text.length)}
        onBlur={event => {
          window.setTimeout(() => setOpen(false), 150);
          onBlur?.(id, event.target.value);
        }}
        onFocus={event => onFocus?.(id, event.target.value)}
      />
      {offered.length > 0 && (
        <ul className="aqtra-completions" role="listbox">
          {offered.map((name, i) => (
            <li
              key={name}
              role="option"
              aria-selected={i === active}
              className={`aqtra-completion${i === active ? ' aqtra-active' : ''}`}
              data-aqtra-completion={name}
              onMouseDown={event => {
                event.preventDefault();
                take(name);
              }}
            >
              {name}
              {!name.startsWith('@') && <span className="aqtra-completion-type">{columns[name]}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
