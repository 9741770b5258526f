// Small pure helpers for the panels (unit-tested in format.test.ts).

/** Seconds as "0.42 s", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(2)} s`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  }
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** An ISO time as "3 min ago" relative to `now`. */
export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) {
    return '';
  }
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['min', 60]
  ];
  for (const [unit, size] of units) {
    if (seconds >= size) {
      return `${Math.floor(seconds / size)} ${unit} ago`;
    }
  }
  return `${Math.floor(seconds)} s ago`;
}

/** Whether a run status is final (the list stops refreshing a run once it is). */
export function isFinished(status: string): boolean {
  return !['queued', 'running'].includes(status);
}

/** A value as a Python literal (JSON's true/false/null spelt Python's way). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (Array.isArray(value)) {
    return `[${value.map(pythonLiteral).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const items = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`);
    return `{${items.join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** The notebook cell "Open in notebook" writes: load the flow next to it, run it, show the result. */
export function notebookCell(file: string, parameters: Record<string, unknown>): string {
  const given = Object.keys(parameters).length ? pythonLiteral(parameters) : '';
  return [
    'from aqtra_nb import Flow',
    '',
    `flow = Flow.load(${JSON.stringify(file)})`,
    `result = flow.run(${given})`,
    'result'
  ].join('\n');
}
