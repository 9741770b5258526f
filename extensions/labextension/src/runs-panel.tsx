// The runs panel: recent runs with status, duration and age; log, output, run again, cancel. DOM hooks (docs/lab.md):
// `.aqtra-runs-panel`, rows `[data-aqtra-run="<id>"]` with `data-aqtra-status`, `.aqtra-error`.
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { AqtraApi, ApiError, RunInfo } from './api';
import { ago, duration, isFinished } from './format';
import { JobsList } from './jobs-panel';
import { TasksList } from './tasks-panel';

const REFRESH_MS = 2000;

interface IRunsProps {
  api: AqtraApi;
  onLog: (run: RunInfo) => void;
  onOutput: (run: RunInfo) => void;
}

export function RunsList({ api, onLog, onOutput }: IRunsProps): JSX.Element {
  const [runs, setRuns] = React.useState<RunInfo[]>([]);
  const [total, setTotal] = React.useState(0);
  const [error, setError] = React.useState('');

  const refresh = React.useCallback(async () => {
    try {
      const page = await api.runs({ limit: 50 });
      setRuns(page.runs);
      setTotal(page.total);
      setError('');
    } catch (reason) {
      setError(reason instanceof ApiError ? reason.message : String(reason));
    }
  }, [api]);

  React.useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);

  const cancel = async (run: RunInfo) => {
    try {
      await api.cancelRun(run.id);
      await refresh();
    } catch (reason) {
      setError(reason instanceof ApiError ? reason.message : String(reason));
    }
  };

  const again = async (run: RunInfo) => {
    try {
      await api.rerun(run.id);
      await refresh();
    } catch (reason) {
      setError(reason instanceof ApiError ? reason.message : String(reason));
    }
  };

  return (
    <div className="aqtra-runs-panel">
      <header className="aqtra-panel-header">
        <span className="aqtra-panel-title">Runs</span>
        <span className="aqtra-panel-count">{total}</span>
        <button className="jp-Button jp-mod-minimal aqtra-refresh" title="Refresh" onClick={() => void refresh()}>
          ⟳
        </button>
      </header>
      {error && <div className="aqtra-error">{error}</div>}
      {runs.length === 0 && !error && <div className="aqtra-empty">No runs yet.</div>}
      <ul className="aqtra-run-list">
        {runs.map(run => (
          <li key={run.id} className="aqtra-run" data-aqtra-run={run.id} data-aqtra-status={run.status}>
            <span className={`aqtra-status aqtra-status-${run.status}`} title={run.error ?? run.status}>
              {run.status}
            </span>
            <span className="aqtra-run-name" title={`${run.kind} ${run.id}`}>
              {run.name}
            </span>
            <span className="aqtra-run-time">{duration(run.seconds) || ago(run.started_at)}</span>
            <span className="aqtra-run-actions">
              <button className="jp-Button jp-mod-minimal" title="Show the log" onClick={() => onLog(run)}>
                log
              </button>
              {run.kind === 'notebook' && isFinished(run.status) && (
                <button className="jp-Button jp-mod-minimal aqtra-output" title="Open the output notebook (HTML)" onClick={() => onOutput(run)}>
                  output
                </button>
              )}
              {isFinished(run.status) && (
                <button className="jp-Button jp-mod-minimal aqtra-rerun" title="Run again with the same parameters" onClick={() => void again(run)}>
                  again
                </button>
              )}
              {!isFinished(run.status) && (
                <button className="jp-Button jp-mod-minimal" title="Cancel" onClick={() => void cancel(run)}>
                  cancel
                </button>
              )}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Runs, jobs and tasks in one Lumino widget for JupyterLab's left area. */
export class RunsPanel extends ReactWidget {
  constructor(
    private readonly api: AqtraApi,
    private readonly onLog: (run: RunInfo) => void,
    private readonly onOutput: (run: RunInfo) => void
  ) {
    super();
    this.addClass('aqtra-sidebar');
  }

  render(): JSX.Element {
    return (
      <div className="aqtra-sidebar-sections">
        <RunsList api={this.api} onLog={this.onLog} onOutput={this.onOutput} />
        <JobsList api={this.api} />
        <TasksList api={this.api} />
      </div>
    );
  }
}
