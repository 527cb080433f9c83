/**
 * The schedules in the sidebar's Jobs section: per schedule its state, its cron
 * in words and zone, the next run, the last result, a flag when its next slot
 * would fail (the server's `problem`), pause / resume / delete, and once opened
 * its executions and its recent slots (a skipped or missed one with its reason).
 */
import React from 'react';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { Execution, Schedule, Slot } from '../api/types';
import { browserTimeZone, fireTimeText } from '../jobs/scheduleForm';
import type { IScheduleDetails, SchedulesModel } from '../jobs/scheduleModel';
import { JobsError } from './JobsError';
import { OutputButton } from './OutputButton';
import { StateBadge } from './StateBadge';
import { useModelState } from './useModelState';

export interface ISchedulesListProps {
  model: SchedulesModel;
  trans: TranslationBundle;
  /**
   * Asks before a delete; JupyterLab's dialog by default. Resolves true to
   * delete.
   */
  confirmDelete?: (schedule: Schedule) => Promise<boolean>;
  /** Opens an execution's output notebook; no button without it. */
  onOpenOutput?: (execution: Execution) => void;
}

/** Asks with JupyterLab's dialog whether to delete `schedule`. */
export async function confirmWithDialog(
  schedule: Schedule,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Delete schedule %1?', schedule.name),
    body: trans.__(
      'No slot of "%1" (%2) will fire any more. Its executions and their MLflow runs stay.',
      schedule.description,
      schedule.cron
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Keep') }),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  return result.button.accept;
}

export function SchedulesList(props: ISchedulesListProps): JSX.Element | null {
  const { model, trans } = props;
  const state = useModelState(model);
  // Nothing until there is a schedule: the Jobs section's own hint says where
  // jobs (and so schedules) start, and most projects have none.
  if (state.schedules.length === 0 && !state.error) {
    return null;
  }
  return (
    <div className="jp-MlopsLab-schedules">
      <h3 className="jp-MlopsLab-subheading">{trans.__('Schedules')}</h3>
      <JobsError error={state.error} />
      <ul className="jp-MlopsLab-scheduleList">
        {state.schedules.map(schedule => (
          <ScheduleItem
            key={schedule.id}
            schedule={schedule}
            details={state.details[schedule.id]}
            busy={state.busy.includes(schedule.id)}
            {...props}
          />
        ))}
      </ul>
    </div>
  );
}

function ScheduleItem(
  props: ISchedulesListProps & {
    schedule: Schedule;
    details?: IScheduleDetails;
    busy: boolean;
  }
): JSX.Element {
  const { schedule, details, busy, model, trans } = props;
  const next = schedule.next_fire_times?.[0];
  const last = schedule.last_execution;
  const confirm =
    props.confirmDelete ?? ((s: Schedule) => confirmWithDialog(s, trans));
  return (
    <li
      className="jp-MlopsLab-schedule"
      data-schedule-id={schedule.id}
      data-state={schedule.state}
    >
      <div className="jp-MlopsLab-jobHead">
        <span className="jp-MlopsLab-jobName" title={schedule.notebook}>
          {schedule.name}
        </span>
        {schedule.problem && (
          <span
            className="jp-MlopsLab-scheduleProblem"
            role="img"
            aria-label={schedule.problem}
            title={schedule.problem}
          >
            ⚠
          </span>
        )}
        <StateBadge state={schedule.state} of="schedule" />
      </div>
      <div
        className="jp-MlopsLab-jobMeta jp-MlopsLab-scheduleCron"
        title={schedule.cron}
      >
        {trans.__('%1 (%2)', schedule.description, schedule.timezone)}
      </div>
      <div className="jp-MlopsLab-jobMeta">
        <span className="jp-MlopsLab-scheduleNext">
          {next
            ? trans.__('Next: %1', fireTimeText(next, browserTimeZone(), trans))
            : schedule.state === 'ACTIVE'
              ? trans.__('No next run')
              : trans.__('Next: none while %1', schedule.state)}
        </span>
        <span className="jp-MlopsLab-scheduleLast">
          {last ? (
            <>
              {trans.__('Last:')} <StateBadge state={last.state} />
            </>
          ) : (
            trans.__('Not run yet')
          )}
        </span>
      </div>
      <div className="jp-MlopsLab-jobActions">
        <button
          className="jp-MlopsLab-linkButton jp-MlopsLab-scheduleToggle"
          aria-expanded={details !== undefined}
          onClick={() => void model.toggle(schedule.id)}
        >
          {details ? trans.__('Hide history') : trans.__('History')}
        </button>
        {schedule.state === 'ACTIVE' && (
          <button
            className="jp-MlopsLab-linkButton jp-MlopsLab-schedulePause"
            disabled={busy}
            title={trans.__('No slot fires until it is resumed')}
            onClick={() => void model.pause(schedule.id)}
          >
            {trans.__('Pause')}
          </button>
        )}
        {schedule.state === 'PAUSED' && (
          <button
            className="jp-MlopsLab-linkButton jp-MlopsLab-scheduleResume"
            disabled={busy}
            title={trans.__(
              'Fire again from the next slot; the slots passed while paused do not fire'
            )}
            onClick={() => void model.resume(schedule.id)}
          >
            {trans.__('Resume')}
          </button>
        )}
        <button
          className="jp-MlopsLab-linkButton jp-MlopsLab-scheduleDelete"
          disabled={busy}
          onClick={async () => {
            if (await confirm(schedule)) {
              await model.remove(schedule.id);
            }
          }}
        >
          {trans.__('Delete')}
        </button>
      </div>
      {details && (
        <ScheduleDetails
          details={details}
          trans={trans}
          onOpenOutput={props.onOpenOutput}
        />
      )}
    </li>
  );
}

/** An opened schedule: its executions, then its recent slots. */
function ScheduleDetails(props: {
  details: IScheduleDetails;
  trans: TranslationBundle;
  onOpenOutput?: (execution: Execution) => void;
}): JSX.Element {
  const { details, trans } = props;
  if (!details.loaded) {
    return <div className="jp-MlopsLab-scheduleDetails">…</div>;
  }
  const here = browserTimeZone();
  return (
    <div className="jp-MlopsLab-scheduleDetails">
      <JobsError error={details.error} />
      <div className="jp-MlopsLab-label">{trans.__('Executions')}</div>
      {details.executions.length === 0 ? (
        <div className="jp-MlopsLab-hint">{trans.__('None yet.')}</div>
      ) : (
        <ul className="jp-MlopsLab-scheduleExecutions">
          {details.executions.map(execution => (
            <li
              key={execution.id}
              className="jp-MlopsLab-scheduleExecution"
              data-execution-id={execution.id}
              data-state={execution.state}
            >
              <StateBadge state={execution.state} />
              <span>{fireTimeText(execution.created_at, here, trans)}</span>
              {props.onOpenOutput && (
                <OutputButton
                  execution={execution}
                  trans={trans}
                  onOpenOutput={props.onOpenOutput}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="jp-MlopsLab-label">{trans.__('Recent slots')}</div>
      {details.slots.length === 0 ? (
        <div className="jp-MlopsLab-hint">{trans.__('None yet.')}</div>
      ) : (
        <ul className="jp-MlopsLab-scheduleSlots">
          {details.slots.map(slot => (
            <SlotItem key={slot.slot_at} slot={slot} trans={trans} />
          ))}
        </ul>
      )}
    </div>
  );
}

function SlotItem(props: {
  slot: Slot;
  trans: TranslationBundle;
}): JSX.Element {
  const { slot, trans } = props;
  return (
    <li className="jp-MlopsLab-scheduleSlot" data-outcome={slot.outcome}>
      <span className="jp-MlopsLab-slotOutcome">{slot.outcome}</span>
      <span>{fireTimeText(slot.slot_at, browserTimeZone(), trans)}</span>
      {slot.reason && (
        <span className="jp-MlopsLab-slotReason">{slot.reason}</span>
      )}
    </li>
  );
}
