/**
 * The Run-as-job form: one typed input per parameter of the notebook's cell
 * tagged `parameters` (defaults filled), the kernel, a timeout and retries;
 * run now, or (its Schedule tab) at every slot of a cron expression.
 *
 * Values are checked as they are typed and again on submit; nothing is sent
 * while a field is wrong. The notebook is saved before the submit (the job runs
 * the file, not the editor's copy), and the submit carries an idempotency key
 * made once per form state, so a double click queues one job.
 */
import React, { useEffect, useRef, useState } from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';

import type { NotebookParameters, Schedule, Submission } from '../api/types';
import { messageOf, MlopsLabResponseError } from '../request';
import type { IJobsAPI } from '../jobs/client';
import type { ISchedulesAPI } from '../jobs/scheduleClient';
import {
  buildScheduleRequest,
  defaultScheduleOptions,
  IScheduleOptions,
  SCHEDULE_PARAMS
} from '../jobs/scheduleForm';
import {
  buildRequest,
  gridSize,
  IField,
  initialFields,
  DEFAULT_OPTIONS,
  IOptions,
  OPTION_PARAMS,
  parseSweep,
  parseValue
} from '../jobs/form';
import { newKey } from '../jobs/model';
import { FieldError } from './FieldError';
import { plainChoices, SelectField, TextField } from './FormField';
import { ScheduleFields } from './ScheduleFields';

export interface IRunAsJobProps {
  notebook: string;
  api: IJobsAPI;
  trans: TranslationBundle;
  /** Saves the notebook; called before every submit. */
  save: () => Promise<void>;
  /** Called with what the server queued. */
  onSubmitted: (submission: Submission) => void;
  /** The schedules' API; the form has no Schedule tab without it. */
  schedulesApi?: ISchedulesAPI;
  /** Called with the schedule the server created. */
  onScheduled?: (schedule: Schedule) => void;
}

/** Run once now, or at every slot of a cron expression. */
export type FormMode = 'run' | 'schedule';

type Load =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; info: NotebookParameters };

/** Options the server may name in `param` (they have a field of their own). */
const OPTION_FIELDS = Object.values(OPTION_PARAMS);
const SCHEDULE_FIELDS = Object.values(SCHEDULE_PARAMS);

export function RunAsJob(props: IRunAsJobProps): JSX.Element {
  const { api, notebook, trans } = props;
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [fields, setFields] = useState<IField[]>([]);
  const [options, setOptions] = useState<IOptions>(DEFAULT_OPTIONS);
  const [mode, setMode] = useState<FormMode>('run');
  const [schedule, setSchedule] = useState<IScheduleOptions>(
    defaultScheduleOptions
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  // One key per submit: a retry of a request that failed on the way (same
  // content) is the same submit; an edit, or a submit that succeeded, makes a
  // new one, so running the same values again on purpose is a new execution.
  const key = useRef(newKey());
  // Read synchronously: a second click before React re-renders the disabled
  // button must not send a second request.
  const inFlight = useRef(false);

  useEffect(() => {
    let cancelled = false;
    api.parameters(notebook).then(
      info => {
        if (!cancelled) {
          setLoad({ status: 'ready', info });
          setFields(initialFields(info.parameters));
          setOptions(o => ({ ...o, kernelName: info.kernel_name }));
        }
      },
      reason => {
        if (!cancelled) {
          setLoad({
            status: 'error',
            message: messageOf(reason)
          });
        }
      }
    );
    return () => {
      cancelled = true;
    };
  }, [api, notebook]);

  const edited = (): void => {
    key.current = newKey();
    setDone(null);
    setFormError(null);
  };

  const updateField = (name: string, change: Partial<IField>): void => {
    edited();
    const next = fields.map(f => (f.name === name ? { ...f, ...change } : f));
    setFields(next);
    const field = next.find(f => f.name === name);
    if (field) {
      setErrors(e => {
        const rest = { ...e };
        delete rest[name];
        const problem = fieldProblem(field, trans);
        return problem ? { ...rest, [name]: problem } : rest;
      });
    }
  };

  /** After an option's edit: its request field's message is out of date. */
  const editedParam = (param: string): void => {
    edited();
    setErrors(e => {
      const rest = { ...e };
      delete rest[param];
      return rest;
    });
  };

  const updateOption = (name: keyof IOptions, value: string): void => {
    editedParam(OPTION_PARAMS[name]);
    setOptions(o => ({ ...o, [name]: value }));
  };

  const updateSchedule = (
    name: keyof IScheduleOptions,
    value: string
  ): void => {
    editedParam(SCHEDULE_PARAMS[name]);
    setSchedule(o => ({ ...o, [name]: value }));
  };

  const switchMode = (next: FormMode): void => {
    if (next !== mode) {
      edited();
      setMode(next);
      setErrors({});
    }
  };

  /** A 400 beside the field its `param` names, anything else above the button. */
  const showFailure = (reason: unknown): void => {
    const param = reason instanceof MlopsLabResponseError ? reason.param : null;
    const message = messageOf(reason);
    const known =
      param !== null &&
      (OPTION_FIELDS.includes(param) ||
        (mode === 'schedule' && SCHEDULE_FIELDS.includes(param)) ||
        fields.some(f => f.name === param));
    if (known && param !== null) {
      setErrors({ [param]: message });
    } else {
      setFormError(message);
    }
  };

  /**
   * Save the notebook (the job runs the file, not the editor's copy), then
   * `request`; the button stays disabled, and a second click does nothing,
   * until the answer.
   */
  const send = async (request: () => Promise<void>): Promise<void> => {
    inFlight.current = true;
    setSubmitting(true);
    setErrors({});
    setFormError(null);
    try {
      await props.save();
      await request();
    } catch (reason) {
      showFailure(reason);
    } finally {
      inFlight.current = false;
      setSubmitting(false);
    }
  };

  const submitSchedule = async (api: ISchedulesAPI): Promise<void> => {
    const built = buildScheduleRequest(
      notebook,
      fields,
      options,
      schedule,
      trans
    );
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    await send(async () => {
      const made = await api.create(built.request);
      props.onScheduled?.(made);
      setDone(
        trans.__(
          'Schedule %1 created: %2 (%3).',
          made.id.slice(0, 8),
          made.description,
          made.timezone
        )
      );
    });
  };

  const submit = async (): Promise<void> => {
    if (inFlight.current) {
      return;
    }
    if (mode === 'schedule' && props.schedulesApi) {
      return submitSchedule(props.schedulesApi);
    }
    const built = buildRequest(notebook, fields, options, key.current, trans);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    await send(async () => {
      const submission = await api.submit(built.request);
      key.current = newKey();
      props.onSubmitted(submission);
      const count = submission.executions.length;
      setDone(
        submission.reused
          ? trans.__('Already queued by an earlier click: nothing new.')
          : count === 1
            ? trans.__(
                'Queued execution %1.',
                submission.executions[0].id.slice(0, 8)
              )
            : trans.__('Queued %1 executions.', count)
      );
    });
  };

  if (load.status === 'loading') {
    return (
      <div className="jp-MlopsLab-jobForm">
        {trans.__('Reading the parameters of %1…', notebook)}
      </div>
    );
  }
  if (load.status === 'error') {
    return (
      <div className="jp-MlopsLab-jobForm">
        <div className="jp-MlopsLab-jobFormError" role="alert">
          {load.message}
        </div>
      </div>
    );
  }

  const { info } = load;
  const preview = buildRequest(notebook, fields, options, '', trans);
  const optionProps = { options, errors, onChange: updateOption };
  const executions = preview.ok ? gridSize(preview.request) : null;
  const scheduling = mode === 'schedule' && props.schedulesApi !== undefined;
  return (
    <form
      className="jp-MlopsLab-jobForm"
      onSubmit={event => {
        event.preventDefault();
        void submit();
      }}
      noValidate
    >
      <h2 className="jp-MlopsLab-jobFormTitle">
        {scheduling
          ? trans.__('Schedule %1 as a job', notebook)
          : trans.__('Run %1 as a job', notebook)}
      </h2>
      {props.schedulesApi && (
        <div
          className="jp-MlopsLab-jobModes"
          role="tablist"
          aria-label={trans.__('When')}
        >
          <ModeTab
            mode="run"
            current={mode}
            label={trans.__('Run now')}
            onSelect={switchMode}
          />
          <ModeTab
            mode="schedule"
            current={mode}
            label={trans.__('Schedule')}
            onSelect={switchMode}
          />
        </div>
      )}
      {scheduling && props.schedulesApi && (
        <ScheduleFields
          api={props.schedulesApi}
          schedule={schedule}
          errors={errors}
          trans={trans}
          onChange={updateSchedule}
        />
      )}
      {!info.has_parameters_cell && (
        <p className="jp-MlopsLab-hint">
          {trans.__(
            'This notebook has no cell tagged "parameters": it runs as it is. Tag a cell "parameters" to get a field per variable.'
          )}
        </p>
      )}
      {fields.length > 0 && (
        <fieldset className="jp-MlopsLab-jobFields">
          <legend>{trans.__('Parameters')}</legend>
          {fields.map(field => (
            <ParameterInput
              key={field.name}
              field={field}
              error={errors[field.name]}
              sweepable={!scheduling || field.sweep}
              trans={trans}
              onChange={change => updateField(field.name, change)}
            />
          ))}
        </fieldset>
      )}
      <fieldset className="jp-MlopsLab-jobFields">
        <legend>{trans.__('Options')}</legend>
        <SelectField
          param="kernel_name"
          label={trans.__('Kernel')}
          value={options.kernelName}
          choices={plainChoices([
            ...new Set([info.kernel_name, ...info.kernels])
          ])}
          error={errors.kernel_name}
          onChange={value => updateOption('kernelName', value)}
        />
        <OptionInput
          option="timeout"
          label={trans.__('Timeout (s)')}
          inputMode="decimal"
          placeholder={trans.__('no limit')}
          {...optionProps}
        />
        <OptionInput
          option="retries"
          label={trans.__('Retries')}
          inputMode="numeric"
          {...optionProps}
        />
        {!scheduling && fields.some(f => f.sweep) && (
          <>
            <OptionInput
              option="sweepMetric"
              label={trans.__('Best by metric')}
              placeholder={trans.__('e.g. accuracy')}
              {...optionProps}
            />
            <SelectField
              param="sweep_goal"
              label={trans.__('Goal')}
              value={options.sweepGoal}
              choices={[
                { value: 'max', label: trans.__('highest') },
                { value: 'min', label: trans.__('lowest') }
              ]}
              onChange={value => updateOption('sweepGoal', value)}
            />
            <OptionInput
              option="concurrency"
              label={trans.__('At once')}
              inputMode="numeric"
              placeholder={trans.__('number of cores')}
              {...optionProps}
            />
          </>
        )}
      </fieldset>
      {formError && (
        <div className="jp-MlopsLab-jobFormError" role="alert">
          {formError}
        </div>
      )}
      <div className="jp-MlopsLab-jobFormActions">
        <button
          type="submit"
          className="jp-Button jp-mod-styled jp-mod-accept jp-MlopsLab-jobSubmit"
          disabled={submitting}
        >
          {submitting
            ? trans.__('Submitting…')
            : scheduling
              ? trans.__('Create schedule')
              : executions !== null && executions > 1
                ? trans.__('Run %1 executions', executions)
                : trans.__('Run')}
        </button>
        {done && (
          <span className="jp-MlopsLab-jobFormDone" role="status">
            {done}
          </span>
        )}
      </div>
    </form>
  );
}

/** The inline message of one field as it is now, or null. */
function fieldProblem(field: IField, trans: TranslationBundle): string | null {
  if (field.sweep) {
    const parsed = parseSweep(field.name, field.type, field.text, trans);
    return parsed.ok ? null : parsed.error;
  }
  if (field.type === 'bool' || field.text === field.initialText) {
    return null;
  }
  const parsed = parseValue(field.name, field.type, field.text, trans);
  return parsed.ok ? null : parsed.error;
}

/** The options typed as text (timeout, retries, a sweep's metric and concurrency). */
type TextOption = 'timeout' | 'retries' | 'sweepMetric' | 'concurrency';

interface IOptionInputProps {
  option: TextOption;
  label: string;
  inputMode?: 'decimal' | 'numeric';
  placeholder?: string;
  options: IOptions;
  errors: Record<string, string>;
  onChange: (name: keyof IOptions, value: string) => void;
}

/** One option's labelled text input, named and checked as the request field it sets. */
function OptionInput(props: IOptionInputProps): JSX.Element {
  const param = OPTION_PARAMS[props.option];
  return (
    <TextField
      param={param}
      label={props.label}
      inputMode={props.inputMode}
      placeholder={props.placeholder}
      value={props.options[props.option]}
      error={props.errors[param]}
      onChange={value => props.onChange(props.option, value)}
    />
  );
}

/** One tab of the form's run now | schedule switch. */
function ModeTab(props: {
  mode: FormMode;
  current: FormMode;
  label: string;
  onSelect: (mode: FormMode) => void;
}): JSX.Element {
  const selected = props.mode === props.current;
  return (
    <button
      type="button"
      role="tab"
      className="jp-MlopsLab-jobMode"
      data-mode={props.mode}
      aria-selected={selected}
      onClick={() => props.onSelect(props.mode)}
    >
      {props.label}
    </button>
  );
}

function ParameterInput(props: {
  field: IField;
  error?: string;
  /** False on the Schedule tab: a schedule runs one value a slot. */
  sweepable: boolean;
  trans: TranslationBundle;
  onChange: (change: Partial<IField>) => void;
}): JSX.Element {
  const { field, error, trans, onChange } = props;
  const invalid = error !== undefined;
  let input: JSX.Element;
  if (field.type === 'bool' && !field.sweep) {
    input = (
      <input
        type="checkbox"
        name={field.name}
        checked={field.checked}
        onChange={e => onChange({ checked: e.target.checked })}
      />
    );
  } else if ((field.type === 'list' || field.type === 'dict') && !field.sweep) {
    input = (
      <textarea
        className="jp-mod-styled"
        name={field.name}
        rows={2}
        value={field.text}
        aria-invalid={invalid}
        onChange={e => onChange({ text: e.target.value })}
      />
    );
  } else {
    input = (
      <input
        className="jp-mod-styled"
        name={field.name}
        type="text"
        inputMode={
          !field.sweep && (field.type === 'int' || field.type === 'float')
            ? 'decimal'
            : undefined
        }
        placeholder={
          field.sweep
            ? field.type === 'list' || field.type === 'dict'
              ? trans.__('a JSON array of values')
              : trans.__('values, comma separated')
            : undefined
        }
        value={field.text}
        aria-invalid={invalid}
        onChange={e => onChange({ text: e.target.value })}
      />
    );
  }
  return (
    <div className="jp-MlopsLab-jobField" data-param={field.name}>
      <label className="jp-MlopsLab-jobFieldLabel">
        <span className="jp-MlopsLab-label">{field.name}</span>
        <span className="jp-MlopsLab-jobFieldType">{field.type}</span>
        {input}
      </label>
      {props.sweepable && (
        <label
          className="jp-MlopsLab-jobSweep"
          title={trans.__('Run one execution per value')}
        >
          <input
            type="checkbox"
            name={`${field.name}-sweep`}
            checked={field.sweep}
            onChange={e => {
              const sweep = e.target.checked;
              // A bool's sweep is typed: start it with both values.
              const text =
                field.type === 'bool'
                  ? sweep
                    ? 'true, false'
                    : field.initialText
                  : field.text;
              onChange({ sweep, text });
            }}
          />
          {trans.__('sweep')}
        </label>
      )}
      {field.help && (
        <span className="jp-MlopsLab-jobFieldHelp">{field.help}</span>
      )}
      <FieldError error={error} />
    </div>
  );
}

/** The form in a main-area panel, one per notebook. */
export class RunAsJobWidget extends ReactWidget {
  constructor(private readonly _props: IRunAsJobProps) {
    super();
    this.addClass('jp-MlopsLab-runAsJob');
  }

  protected render(): JSX.Element {
    return <RunAsJob {...this._props} />;
  }
}
