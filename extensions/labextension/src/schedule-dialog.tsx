// "Schedule…": a job from a notebook or flow file, with a cron field and a preview of its next runs.
import { Dialog, ReactWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import * as React from 'react';

import { AqtraApi, JobInfo } from './api';
import { message } from './use-polling';

interface ISchedule {
  name: string;
  cron: string;
  timezone: string;
}

function ScheduleForm({ api, initial, onChange }: { api: AqtraApi; initial: ISchedule; onChange: (value: ISchedule) => void }): JSX.Element {
  const [value, setValue] = React.useState(initial);
  const [next, setNext] = React.useState<string[]>([]);
  const [error, setError] = React.useState('');
  React.useEffect(() => {
    onChange(value);
    const timer = window.setTimeout(() => {
      api.nextRuns(value.cron, value.timezone).then(
        reply => {
          setNext(reply.next.map(moment => moment.replace('T', ' ').slice(0, 16)));
          setError('');
        },
        reason => {
          setNext([]);
          setError(message(reason));
        }
      );
    }, 250);
    return () => window.clearTimeout(timer);
  }, [value]);
  const field = (key: keyof ISchedule, label: string) => (
    <label className="aqtra-field">
      <span>{label}</span>
      <input
        className="jp-mod-styled"
        name={key}
        value={value[key]}
        onChange={event => setValue({ ...value, [key]: event.target.value })}
      />
    </label>
  );
  return (
    <div className="aqtra-schedule-form">
      {field('name', 'Job name')}
      {field('cron', 'Cron (minute hour day month weekday)')}
      {field('timezone', 'Time zone')}
      {error ? (
        <div className="aqtra-error">{error}</div>
      ) : (
        <div className="aqtra-next-runs">
          Next runs ({value.timezone}):
          <ul>
            {next.map(moment => (
              <li key={moment}>{moment}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

class ScheduleBody extends ReactWidget {
  value: ISchedule;

  constructor(
    private readonly api: AqtraApi,
    initial: ISchedule
  ) {
    super();
    this.value = initial;
  }

  getValue(): ISchedule {
    return this.value;
  }

  render(): JSX.Element {
    return <ScheduleForm api={this.api} initial={this.value} onChange={value => (this.value = value)} />;
  }
}

/** Ask for a schedule and add the job; returns it, or null when cancelled. */
export async function scheduleFile(api: AqtraApi, path: string): Promise<JobInfo | null> {
  const base = path.split('/').pop() ?? path;
  const name = base.replace(/\.ipynb$/, '').replace(/\.flow\.(ya?ml|json)$/, '');
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const body = new ScheduleBody(api, { name, cron: '0 6 * * *', timezone: zone });
  const result = await showDialog({
    title: `Schedule ${base}`,
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Schedule' })]
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  try {
    return await api.createJob({ target: path, ...result.value });
  } catch (reason) {
    await showErrorMessage('Cannot schedule', message(reason));
    return null;
  }
}
