/**
 * The sidebar's Jobs section: recent executions with their live state and cell
 * progress, and per execution its output notebook, log, cancel, re-run and the
 * MLflow run in the Runs explorer; above them, the schedules.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { Execution } from '../api/types';
import { isActive, JobsModel } from '../jobs/model';
import type { SchedulesModel } from '../jobs/scheduleModel';
import { SchedulesList } from './SchedulesList';
import { CollapsibleSection } from './CollapsibleSection';
import { JobsError } from './JobsError';
import { OutputButton } from './OutputButton';
import { StateBadge } from './StateBadge';
import { useModelState } from './useModelState';

export interface IJobsSectionProps {
  model: JobsModel;
  trans: TranslationBundle;
  /** The schedules' model; no schedules listed without it. */
  schedules?: SchedulesModel;
  /** Opens the execution's output notebook read-only; no button without it. */
  onOpenOutput?: (execution: Execution) => void;
  /** Opens an MLflow run in the Runs explorer; no link without it. */
  onOpenRun?: (experimentId: string, runId: string) => void;
}

/** `3/5 cells`, or the state alone before the first cell. */
export function progressText(
  execution: Execution,
  trans: TranslationBundle
): string {
  if (execution.cells_total > 0) {
    return trans.__('%1/%2 cells', execution.cells_done, execution.cells_total);
  }
  return '';
}

/** The notebook's file name without its folders. */
function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

function parametersText(parameters: Record<string, unknown>): string {
  return Object.entries(parameters)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(' ');
}

export function JobsSection(props: IJobsSectionProps): JSX.Element {
  const { model, trans } = props;
  const state = useModelState(model);
  return (
    <CollapsibleSection title={trans.__('Jobs')} name="jobs">
      {props.schedules && (
        <SchedulesList
          model={props.schedules}
          trans={trans}
          onOpenOutput={props.onOpenOutput}
        />
      )}
      <JobsError error={state.error} />
      {state.loaded && state.executions.length === 0 && !state.error && (
        <div className="jp-MlopsLab-hint">
          {trans.__(
            'No jobs yet. Open a notebook and click "Run as job" in its toolbar, or run %1 in a cell.',
            '%mlops job run'
          )}
        </div>
      )}
      <ul className="jp-MlopsLab-jobList">
        {state.executions.map(execution => (
          <ExecutionItem
            key={execution.id}
            execution={execution}
            log={state.logs[execution.id]}
            busy={state.busy.includes(execution.id)}
            {...props}
          />
        ))}
      </ul>
    </CollapsibleSection>
  );
}

function ExecutionItem(
  props: IJobsSectionProps & {
    execution: Execution;
    log?: { text: string; complete: boolean };
    busy: boolean;
  }
): JSX.Element {
  const { execution, model, trans, log, busy } = props;
  const active = isActive(execution);
  const percent =
    execution.cells_total > 0
      ? Math.round((100 * execution.cells_done) / execution.cells_total)
      : 0;
  const error = execution.error;
  const { run_id: runId, experiment_id: experimentId } = execution;
  return (
    <li
      className="jp-MlopsLab-job"
      data-execution-id={execution.id}
      data-state={execution.state}
    >
      <div className="jp-MlopsLab-jobHead">
        <span className="jp-MlopsLab-jobName" title={execution.notebook}>
          {execution.job_name || baseName(execution.notebook)}
        </span>
        <StateBadge state={execution.state} />
      </div>
      <div className="jp-MlopsLab-jobMeta">
        <span className="jp-MlopsLab-jobProgress">
          {progressText(execution, trans)}
        </span>
        {execution.max_attempts > 1 && (
          <span>
            {trans.__(
              'attempt %1/%2',
              execution.attempt,
              execution.max_attempts
            )}
          </span>
        )}
        <span className="jp-MlopsLab-jobParams">
          {parametersText(execution.parameters)}
        </span>
      </div>
      {active && (
        <progress
          className="jp-MlopsLab-jobBar"
          max={100}
          value={percent}
          aria-label={trans.__('Cells done')}
        />
      )}
      {error && (
        <div className="jp-MlopsLab-jobCellError">
          {error.cell_index !== null && error.cell_index !== undefined
            ? trans.__(
                'Cell %1: %2: %3',
                error.cell_index,
                error.name,
                error.message
              )
            : `${error.name}: ${error.message}`}
        </div>
      )}
      <div className="jp-MlopsLab-jobActions">
        {props.onOpenOutput && (
          <OutputButton
            execution={execution}
            trans={trans}
            onOpenOutput={props.onOpenOutput}
          />
        )}
        <button
          className="jp-MlopsLab-linkButton jp-MlopsLab-jobLog"
          aria-expanded={log !== undefined}
          onClick={() => void model.toggleLog(execution.id)}
        >
          {log ? trans.__('Hide log') : trans.__('Log')}
        </button>
        {active && (
          <button
            className="jp-MlopsLab-linkButton jp-MlopsLab-jobCancel"
            disabled={busy || execution.cancel_requested}
            onClick={() => void model.cancel(execution.id)}
          >
            {execution.cancel_requested
              ? trans.__('Cancelling…')
              : trans.__('Cancel')}
          </button>
        )}
        {!active && (
          <button
            className="jp-MlopsLab-linkButton jp-MlopsLab-jobRerun"
            disabled={busy}
            title={trans.__('Run again with the same parameters')}
            onClick={() => void model.rerun(execution.id)}
          >
            {trans.__('Re-run')}
          </button>
        )}
        {props.onOpenRun && runId && experimentId && (
          <button
            className="jp-MlopsLab-linkButton jp-MlopsLab-jobRun"
            title={trans.__('Open MLflow run %1 in the Runs explorer', runId)}
            onClick={() => props.onOpenRun?.(experimentId, runId)}
          >
            {trans.__('Run')}
          </button>
        )}
      </div>
      {log && (
        <pre className="jp-MlopsLab-jobLogText" data-complete={log.complete}>
          {log.text || (log.complete ? trans.__('(empty log)') : '…')}
        </pre>
      )}
    </li>
  );
}
