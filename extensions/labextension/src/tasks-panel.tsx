// Human tasks of workflows waiting for a decision: approve (with an option) or reject.
// DOM hooks: `.aqtra-tasks-panel`, rows `[data-aqtra-task="<id>"]`.
import * as React from 'react';

import { AqtraApi, TaskInfo } from './api';
import { ago } from './format';
import { useAction, usePolling } from './use-polling';

export function TasksList({ api }: { api: AqtraApi }): JSX.Element {
  const load = React.useCallback(() => api.tasks(), [api]);
  const { data, error, refresh } = usePolling(load, 3000);
  const { error: actionError, act: decide } = useAction(refresh);
  const tasks: TaskInfo[] = data?.tasks ?? [];
  return (
    <div className="aqtra-tasks-panel">
      <header className="aqtra-panel-header">
        <span className="aqtra-panel-title">Tasks</span>
        <span className="aqtra-panel-count">{tasks.length}</span>
      </header>
      {(error || actionError) && <div className="aqtra-error">{error || actionError}</div>}
      {tasks.length === 0 && !error && <div className="aqtra-empty">No task waits for a decision.</div>}
      <ul className="aqtra-run-list">
        {tasks.map(task => (
          <li key={task.id} className="aqtra-task" data-aqtra-task={task.id}>
            <div className="aqtra-task-title" title={task.message ?? ''}>
              {task.title}
            </div>
            <div className="aqtra-run-time">
              {task.assignee ? `for ${task.assignee}, ` : ''}
              {ago(task.created_at)}
            </div>
            <div className="aqtra-run-actions">
              {task.options.length === 0 && (
                <button className="jp-Button jp-mod-minimal" onClick={decide(() => api.approve(task.id))}>
                  approve
                </button>
              )}
              {task.options.map(option => (
                <button
                  key={option}
                  className="jp-Button jp-mod-minimal"
                  data-aqtra-option={option}
                  title={`Approve: ${option}`}
                  onClick={decide(() => api.approve(task.id, option))}
                >
                  {option}
                </button>
              ))}
              <button className="jp-Button jp-mod-minimal" onClick={decide(() => api.reject(task.id))}>
                reject
              </button>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
