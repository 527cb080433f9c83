/**
 * One page of runs: name, status, start time, then the page's params and
 * metrics (headers sort through the server), a checkbox per run to compare, and
 * Previous / Next.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { RunsPage, RunSummary } from '../api/types';
import { formatMetric, formatTime, runLabel } from '../runs/format';
import { ColumnKind, ISort, sortIndicator } from '../runs/sorting';

export interface IRunsTableProps {
  page: RunsPage;
  sort: ISort | null;
  selectedIds: ReadonlySet<string>;
  /** The run whose details are open. */
  activeRunId: string | null;
  trans: TranslationBundle;
  onSort: (kind: ColumnKind, key: string) => void;
  onToggleSelected: (run: RunSummary) => void;
  onShowDetails: (runId: string) => void;
}

export function RunsTable(props: IRunsTableProps): JSX.Element {
  const { page, sort, trans } = props;
  const header = (kind: ColumnKind, key: string): JSX.Element => {
    const arrow = sortIndicator(sort, kind, key);
    const ariaSort = arrow
      ? sort?.direction === 'ASC'
        ? 'ascending'
        : 'descending'
      : undefined;
    return (
      <th
        key={`${kind}.${key}`}
        className={`jp-MlopsLab-col-${kind}`}
        data-column={`${kind}.${key}`}
        aria-sort={ariaSort}
      >
        <button
          className="jp-MlopsLab-sortButton"
          title={trans.__('Sort by %1', `${kind}.${key}`)}
          onClick={() => props.onSort(kind, key)}
        >
          {key}
          <span className="jp-MlopsLab-sortIndicator" aria-hidden="true">
            {arrow}
          </span>
        </button>
      </th>
    );
  };

  return (
    <div className="jp-MlopsLab-tableScroll">
      <table className="jp-MlopsLab-runsTable">
        <thead>
          {(page.param_keys.length > 0 || page.metric_keys.length > 0) && (
            <tr className="jp-MlopsLab-groupRow">
              <th className="jp-MlopsLab-col-select" />
              <th className="jp-MlopsLab-col-run" />
              <th colSpan={2} />
              {page.param_keys.length > 0 && (
                <th colSpan={page.param_keys.length}>{trans.__('Params')}</th>
              )}
              {page.metric_keys.length > 0 && (
                <th colSpan={page.metric_keys.length}>{trans.__('Metrics')}</th>
              )}
            </tr>
          )}
          <tr>
            <th className="jp-MlopsLab-col-select">
              <span className="jp-MlopsLab-visuallyHidden">
                {trans.__('Compare')}
              </span>
            </th>
            <th className="jp-MlopsLab-col-run">{trans.__('Run')}</th>
            <th>{trans.__('Status')}</th>
            <th>{trans.__('Started')}</th>
            {page.param_keys.map(key => header('params', key))}
            {page.metric_keys.map(key => header('metrics', key))}
          </tr>
        </thead>
        <tbody>
          {page.runs.map(run => {
            const selected = props.selectedIds.has(run.run_id);
            const label = runLabel(run);
            return (
              <tr
                key={run.run_id}
                className={
                  'jp-MlopsLab-runRow' +
                  (run.run_id === props.activeRunId
                    ? ' jp-MlopsLab-active'
                    : '')
                }
                data-run-id={run.run_id}
                aria-selected={selected}
              >
                <td className="jp-MlopsLab-col-select">
                  <input
                    type="checkbox"
                    className="jp-MlopsLab-selectRun"
                    aria-label={trans.__('Compare %1', label)}
                    checked={selected}
                    onChange={() => props.onToggleSelected(run)}
                  />
                </td>
                <td className="jp-MlopsLab-runName">
                  <button
                    className="jp-MlopsLab-linkButton"
                    title={trans.__('Show the details of %1', run.run_id)}
                    onClick={() => props.onShowDetails(run.run_id)}
                  >
                    {label}
                  </button>
                </td>
                <td>
                  <span
                    className={`jp-MlopsLab-status jp-MlopsLab-status-${run.status.toLowerCase()}`}
                  >
                    {run.status}
                  </span>
                </td>
                <td className="jp-MlopsLab-time">
                  {formatTime(run.start_time)}
                </td>
                {page.param_keys.map(key => (
                  <td
                    key={`p.${key}`}
                    className="jp-MlopsLab-param"
                    data-column={`params.${key}`}
                  >
                    {run.params[key] ?? ''}
                  </td>
                ))}
                {page.metric_keys.map(key => (
                  <td
                    key={`m.${key}`}
                    className="jp-MlopsLab-metric"
                    data-column={`metrics.${key}`}
                    title={
                      run.metrics[key] !== undefined
                        ? String(run.metrics[key])
                        : undefined
                    }
                  >
                    {formatMetric(run.metrics[key])}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export interface IPagerProps {
  pageIndex: number;
  count: number;
  canGoBack: boolean;
  canGoForward: boolean;
  busy: boolean;
  trans: TranslationBundle;
  onPrevious: () => void;
  onNext: () => void;
}

/** Previous / Next over the server's page tokens. */
export function Pager(props: IPagerProps): JSX.Element {
  const { trans } = props;
  return (
    <div className="jp-MlopsLab-pager">
      <button
        className="jp-mod-styled jp-MlopsLab-previous"
        disabled={!props.canGoBack || props.busy}
        onClick={props.onPrevious}
      >
        {trans.__('Previous')}
      </button>
      <span className="jp-MlopsLab-pageInfo">
        {trans._n(
          'Page %2 · %1 run',
          'Page %2 · %1 runs',
          props.count,
          props.pageIndex + 1
        )}
      </span>
      <button
        className="jp-mod-styled jp-MlopsLab-next"
        disabled={!props.canGoForward || props.busy}
        onClick={props.onNext}
      >
        {trans.__('Next')}
      </button>
    </div>
  );
}
