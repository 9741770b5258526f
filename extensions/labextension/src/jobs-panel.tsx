// Jobs: scheduled notebooks and flows, with their next run; pause/resume, run now, delete.
// DOM hooks: `.aqtra-jobs-panel`, rows `[data-aqtra-job="<name>"]` with `data-aqtra-paused`.
import * as React from 'react';

import { AqtraApi, JobInfo } from './api';
import { ago } from './format';
import { useAction, usePolling } from './use-polling';

export function JobsList({ api }: { api: AqtraApi }): JSX.Element {
  const load = React.useCallback(() => api.jobs(), [api]);
  const { data, error, refresh } = usePolling(load, 5000);
  const { error: actionError, act } = useAction(refresh);
  const jobs: JobInfo[] = data?.jobs ?? [];
  return (
    <div className="aqtra-jobs-panel">
      <header className="aqtra-panel-header">
        <span className="aqtra-panel-title">Jobs</span>
        <span className="aqtra-panel-count">{jobs.length}</span>
      </header>
      {(error || actionError) && <div className="aqtra-error">{error || actionError}</div>}
      {jobs.length === 0 && !error && (
        <div className="aqtra-empty">No jobs. Right-click a notebook or flow file: Schedule…</div>
      )}
      <ul className="aqtra-run-list">
        {jobs.map(job => (
          <li key={job.name} className="aqtra-job" data-aqtra-job={job.name} data-aqtra-paused={String(job.paused)}>
            <span className="aqtra-run-name" title={job.target}>
              {job.name}
            </span>
            <span className="aqtra-run-time" title={job.next_run ?? ''}>
              {job.paused ? 'paused' : job.next_run ? `next ${new Date(job.next_run).toLocaleString()}` : `added ${ago(job.created_at)}`}
            </span>
            <span className="aqtra-run-actions">
              <button className="jp-Button jp-mod-minimal" title="Queue a run now" onClick={act(() => api.runJob(job.name))}>
                run
              </button>
              {job.paused ? (
                <button className="jp-Button jp-mod-minimal" onClick={act(() => api.resumeJob(job.name))}>
                  resume
                </button>
              ) : (
                <button className="jp-Button jp-mod-minimal" onClick={act(() => api.pauseJob(job.name))}>
                  pause
                </button>
              )}
              <button className="jp-Button jp-mod-minimal" title="Delete the job" onClick={act(() => api.deleteJob(job.name))}>
                delete
              </button>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
