/**
 * The Run-as-job form's Schedule tab: a cron field that says what it means and
 * when it fires next as it is typed, a time zone picker, and the policies of a
 * schedule (concurrency, max active, catch-up, end date).
 *
 * The cron is checked by the server (`GET /schedules/preview`), the one place
 * that knows every dialect it accepts, once the user stops typing for
 * `PREVIEW_DELAY` ms; an answer that arrives after a newer keystroke is dropped.
 */
import React, { useEffect, useMemo, useState } from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { CronPreview } from '../api/types';
import { messageOf, MlopsLabResponseError } from '../request';
import { FormField, plainChoices, SelectField, TextField } from './FormField';
import type { ISchedulesAPI } from '../jobs/scheduleClient';
import {
  fireTimeText,
  IScheduleOptions,
  SCHEDULE_PARAMS,
  timeZones
} from '../jobs/scheduleForm';

/** How long the cron field waits after a keystroke before asking the server. */
export const PREVIEW_DELAY = 300;

/** What the preview under the cron field shows. */
export type PreviewState =
  | { status: 'idle' }
  | { status: 'checking' }
  | { status: 'ok'; preview: CronPreview }
  | { status: 'error'; message: string; param: string | null };

/**
 * The server's reading of `cron` in `timezone`, asked `PREVIEW_DELAY` ms after
 * the last change; only the newest answer is kept.
 */
export function useCronPreview(
  api: ISchedulesAPI,
  cron: string,
  timezone: string
): PreviewState {
  const [state, setState] = useState<PreviewState>({ status: 'idle' });
  useEffect(() => {
    if (cron.trim() === '') {
      setState({ status: 'idle' });
      return;
    }
    let current = true;
    setState({ status: 'checking' });
    const timer = setTimeout(() => {
      api.preview(cron.trim(), timezone || undefined).then(
        preview => {
          if (current) {
            setState({ status: 'ok', preview });
          }
        },
        (reason: unknown) => {
          if (current) {
            setState({
              status: 'error',
              message: messageOf(reason),
              param:
                reason instanceof MlopsLabResponseError ? reason.param : null
            });
          }
        }
      );
    }, PREVIEW_DELAY);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, cron, timezone]);
  return state;
}

export interface IScheduleFieldsProps {
  api: ISchedulesAPI;
  schedule: IScheduleOptions;
  /** Messages keyed by request field (`cron`, `timezone`, `max_active`...). */
  errors: Record<string, string>;
  trans: TranslationBundle;
  onChange: (name: keyof IScheduleOptions, value: string) => void;
}

export function ScheduleFields(props: IScheduleFieldsProps): JSX.Element {
  const { api, schedule, errors, trans, onChange } = props;
  const preview = useCronPreview(api, schedule.cron, schedule.timezone);
  const zones = useMemo(
    () => plainChoices(timeZones(schedule.timezone)),
    [schedule.timezone]
  );
  // The preview's 400 goes under the field it names (the zone's under the
  // picker); a submit's 400 for the same field wins, being the newer word.
  const previewError = (param: string): string | undefined =>
    preview.status === 'error' &&
    (preview.param ?? SCHEDULE_PARAMS.cron) === param
      ? preview.message
      : undefined;
  const cronError = errors.cron ?? previewError(SCHEDULE_PARAMS.cron);
  const zoneError = errors.timezone ?? previewError(SCHEDULE_PARAMS.timezone);
  return (
    <fieldset className="jp-MlopsLab-jobFields jp-MlopsLab-scheduleFields">
      <legend>{trans.__('Schedule')}</legend>
      <FormField param="cron" label={trans.__('Cron')} error={cronError}>
        <input
          className="jp-mod-styled jp-MlopsLab-cronInput"
          name="cron"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="0 2 * * *"
          value={schedule.cron}
          aria-invalid={cronError !== undefined}
          onChange={e => onChange('cron', e.target.value)}
        />
        <CronHint
          preview={preview}
          timezone={schedule.timezone}
          trans={trans}
        />
      </FormField>
      <SelectField
        param="timezone"
        label={trans.__('Time zone')}
        value={schedule.timezone}
        choices={zones}
        error={zoneError}
        onChange={value => onChange('timezone', value)}
      />
      <SelectField
        param="concurrency"
        label={trans.__('While one still runs')}
        title={trans.__(
          'When a slot comes while earlier executions still run: skip it, or queue it'
        )}
        value={schedule.concurrency}
        choices={[
          { value: 'skip', label: trans.__('skip the slot') },
          { value: 'queue', label: trans.__('queue it') }
        ]}
        error={errors.concurrency}
        onChange={value => onChange('concurrency', value)}
      />
      <TextField
        param="max_active"
        label={trans.__('Max active')}
        inputMode="numeric"
        value={schedule.maxActive}
        error={errors.max_active}
        onChange={value => onChange('maxActive', value)}
      />
      <SelectField
        param="catch_up"
        label={trans.__('Catch up')}
        title={trans.__(
          'Which slots missed while no scheduler ran still fire once one runs again'
        )}
        value={schedule.catchUp}
        choices={[
          { value: 'none', label: trans.__('none of the missed slots') },
          { value: 'last', label: trans.__('the last missed slot') },
          { value: 'all', label: trans.__('every missed slot') }
        ]}
        error={errors.catch_up}
        onChange={value => onChange('catchUp', value)}
      />
      <TextField
        param="end_at"
        label={trans.__('End (in its time zone)')}
        type="datetime-local"
        value={schedule.endAt}
        error={errors.end_at}
        onChange={value => onChange('endAt', value)}
      />
    </fieldset>
  );
}

/** The cron in words and its next fire times, under the field. */
function CronHint(props: {
  preview: PreviewState;
  timezone: string;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { preview, timezone, trans } = props;
  if (preview.status === 'checking') {
    return (
      <span className="jp-MlopsLab-cronPreview" data-status="checking">
        {trans.__('Reading the expression…')}
      </span>
    );
  }
  if (preview.status !== 'ok') {
    return null;
  }
  const { description, next_fire_times: times } = preview.preview;
  return (
    <span className="jp-MlopsLab-cronPreview" data-status="ok">
      <span className="jp-MlopsLab-cronDescription">{description}</span>
      {times.length > 0 && (
        <span className="jp-MlopsLab-cronNext">
          {trans.__('Next runs:')}
          <ol>
            {times.map(time => (
              <li key={time}>
                <time dateTime={time}>
                  {fireTimeText(
                    time,
                    preview.preview.timezone || timezone,
                    trans
                  )}
                </time>
              </li>
            ))}
          </ol>
        </span>
      )}
    </span>
  );
}
