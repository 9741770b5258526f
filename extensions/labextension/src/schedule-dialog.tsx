// "Schedule…": a job from a notebook or flow file, with a cron field and a preview of its next runs, and
// the file's parameters (its `parameters` cell, or the flow's typed parameters) as a form.
import { Dialog, ReactWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { FormComponent } from '@jupyterlab/ui-components';
import validator from '@rjsf/validator-ajv8';
import * as React from 'react';

import { AqtraApi, JobInfo } from './api';
import { message } from './use-polling';

interface ISchedule {
  name: string;
  cron: string;
  timezone: string;
  parameters: Record<string, unknown>;
}

type Field = 'name' | 'cron' | 'timezone';

function ScheduleForm({
  api,
  path,
  initial,
  onChange
}: {
  api: AqtraApi;
  path: string;
  initial: ISchedule;
  onChange: (value: ISchedule) => void;
}): JSX.Element {
  const [value, setValue] = React.useState(initial);
  const [form, setForm] = React.useState<Record<string, any> | null>(null);
  const [formError, setFormError] = React.useState('');
  React.useEffect(() => {
    api.targetParameters(path).then(
      reply => setForm(reply.parameters),
      reason => setFormError(message(reason))
    );
  }, [path]);
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
  }, [value.name, value.cron, value.timezone]);
  React.useEffect(() => {
    onChange(value);
  }, [value.parameters]);
  const field = (key: Field, label: string) => (
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
      {formError && <div className="aqtra-error">{formError}</div>}
      {form && Object.keys(form.properties ?? {}).length > 0 && (
        <div className="aqtra-job-parameters">
          <div className="aqtra-form-title">Parameters</div>
          <FormComponent
            schema={form as any}
            formData={value.parameters as any}
            validator={validator as any}
            liveValidate={false}
            showErrorList={false}
            onChange={(event: { formData?: Record<string, unknown> }) => {
              const given = Object.fromEntries(
                Object.entries(event.formData ?? {}).filter(([k, v]) => v !== undefined && v !== null && v !== '' && v !== form.properties?.[k]?.default)
              );
              if (JSON.stringify(given) !== JSON.stringify(value.parameters)) {
                setValue({ ...value, parameters: given });
              }
            }}
          />
        </div>
      )}
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
    private readonly path: string,
    initial: ISchedule
  ) {
    super();
    this.value = initial;
  }

  getValue(): ISchedule {
    return this.value;
  }

  render(): JSX.Element {
    return <ScheduleForm api={this.api} path={this.path} initial={this.value} onChange={value => (this.value = value)} />;
  }
}

/** Ask for a schedule and add the job; returns it, or null when cancelled. */
export async function scheduleFile(api: AqtraApi, path: string): Promise<JobInfo | null> {
  const base = path.split('/').pop() ?? path;
  const name = base.replace(/\.ipynb$/, '').replace(/\.flow\.(ya?ml|json)$/, '');
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const body = new ScheduleBody(api, path, { name, cron: '0 6 * * *', timezone: zone, parameters: {} });
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
