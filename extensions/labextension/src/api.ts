// The one way the front end talks to the server: `requestAPI` and a typed method per route.
// Types come from the server's OpenAPI document (src/api-types.ts, generated: `npm run build:types`).
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { components } from './api-types';

export type Schemas = components['schemas'];
export type RunInfo = Schemas['RunInfo'];
export type RunPage = Schemas['RunPage'];
export type JobInfo = Schemas['JobInfo'];
export type TaskInfo = Schemas['TaskInfo'];
export type ComponentInfo = Schemas['ComponentInfo'];
export type ValidateResponse = Schemas['ValidateResponse'];
export type PreviewResponse = Schemas['PreviewResponse'];
export type ErrorBody = Schemas['ErrorBody'];
export type CreateJob = Schemas['CreateJob'];
export type NextRuns = Schemas['NextRuns'];

/** An API error: the server's message, and where (step, field, line) when it says. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Partial<ErrorBody>
  ) {
    super(body.error || `request failed with status ${status}`);
  }
}

/** A request to `/aqtra/api/<endpoint>` with Jupyter's auth and XSRF handling; JSON in and out. */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'aqtra', 'api', endpoint);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  const data = text && response.headers.get('Content-Type')?.includes('json') ? JSON.parse(text) : text;
  if (!response.ok) {
    throw new ApiError(response.status, typeof data === 'object' ? data : { error: String(data) });
  }
  return data as T;
}

function post<T>(endpoint: string, body: unknown): Promise<T> {
  return requestAPI<T>(endpoint, { method: 'POST', body: JSON.stringify(body) });
}

/** One method per route of the REST API (docs/api.md). */
export class AqtraApi {
  components(): Promise<{ components: ComponentInfo[] }> {
    return requestAPI('components');
  }

  validate(flow: unknown, parameters: Record<string, unknown> = {}, path?: string): Promise<ValidateResponse> {
    return post('flows/validate', { flow, parameters, path });
  }

  preview(
    flow: unknown,
    step: string,
    rows = 20,
    path?: string,
    parameters: Record<string, unknown> = {}
  ): Promise<PreviewResponse> {
    return post('flows/preview', { flow, step, rows, path, parameters });
  }

  runs(query: { flow?: string; status?: string; limit?: number; offset?: number } = {}): Promise<RunPage> {
    const params = new URLSearchParams();
    Object.entries(query).forEach(([key, value]) => value !== undefined && params.set(key, String(value)));
    const suffix = params.toString() ? `?${params}` : '';
    return requestAPI(`runs${suffix}`);
  }

  run(id: string): Promise<RunInfo> {
    return requestAPI(`runs/${encodeURIComponent(id)}`);
  }

  startRun(path: string, parameters: Record<string, unknown> = {}): Promise<{ run_id: string }> {
    return post('runs', { path, parameters });
  }

  rerun(id: string): Promise<{ run_id: string }> {
    return post(`runs/${encodeURIComponent(id)}/rerun`, {});
  }

  /** The URL of a notebook run's output as HTML (an iframe sends the login cookie). */
  outputUrl(id: string, settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
    return URLExt.join(settings.baseUrl, 'aqtra', 'api', 'runs', encodeURIComponent(id), 'output') + '?format=html';
  }

  cancelRun(id: string): Promise<{ run_id: string; state: string }> {
    return post(`runs/${encodeURIComponent(id)}/cancel`, {});
  }

  /** The URL of a run's server-sent events (an EventSource sends the login cookie). */
  eventsUrl(id: string, settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
    return URLExt.join(settings.baseUrl, 'aqtra', 'api', 'runs', encodeURIComponent(id), 'events');
  }

  runLog(id: string): Promise<string> {
    return requestAPI(`runs/${encodeURIComponent(id)}/log`);
  }

  jobs(): Promise<{ jobs: JobInfo[] }> {
    return requestAPI('jobs');
  }

  createJob(job: Partial<CreateJob> & { target: string }): Promise<JobInfo> {
    return post('jobs', job);
  }

  pauseJob(name: string): Promise<JobInfo> {
    return post(`jobs/${encodeURIComponent(name)}/pause`, {});
  }

  resumeJob(name: string): Promise<JobInfo> {
    return post(`jobs/${encodeURIComponent(name)}/resume`, {});
  }

  runJob(name: string): Promise<RunInfo> {
    return post(`jobs/${encodeURIComponent(name)}/run`, { parameters: {} });
  }

  deleteJob(name: string): Promise<unknown> {
    return requestAPI(`jobs/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  /** The parameters of a notebook or flow file, as a JSON Schema form. */
  targetParameters(target: string): Promise<{ target: string; parameters: Record<string, any> }> {
    return requestAPI(`schedule/parameters?${new URLSearchParams({ target })}`);
  }

  nextRuns(cron: string, timezone: string, count = 5): Promise<NextRuns> {
    const params = new URLSearchParams({ cron, timezone, count: String(count) });
    return requestAPI(`schedule/next?${params}`);
  }

  tasks(): Promise<{ tasks: TaskInfo[] }> {
    return requestAPI('tasks');
  }

  approve(taskId: string, option?: string, comment?: string): Promise<unknown> {
    return post(`tasks/${encodeURIComponent(taskId)}/approve`, { option, comment });
  }

  reject(taskId: string, comment?: string): Promise<unknown> {
    return post(`tasks/${encodeURIComponent(taskId)}/reject`, { comment });
  }
}
