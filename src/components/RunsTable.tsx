/**
 * One page of runs: name, status, start time, then the page's params and
 * metrics (headers sort through the server), a checkbox per run to compare, and
 * Previous / Next.
 */
import React from 'react';

import type { RunsPage, RunSummary } from '../api/types';
import { runLabel } from '../runs/chartData';
import { formatMetric, formatTime } from '../runs/format';
import { ColumnKind, ISort, sortIndicator } from '../runs/sorting';

export interface IRunsTableProps {
  page: RunsPage;
  sort: ISort | null;
  selectedIds: ReadonlySet<string>;
  /** The run whose details are open. */
  activeRunId: string | null;
  onSort: (kind: ColumnKind, key: string) => void;
  onToggleSelected: (run: RunSummary) => void;
  onShowDetails: (runId: string) => void;
}

export function RunsTable(props: IRunsTableProps): JSX.Element {
  const { page, sort } = props;
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
          title={`Sort by ${kind}.${key}`}
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
                <th colSpan={page.param_keys.length}>Params</th>
              )}
              {page.metric_keys.length > 0 && (
                <th colSpan={page.metric_keys.length}>Metrics</th>
              )}
            </tr>
          )}
          <tr>
            <th className="jp-MlopsLab-col-select">
              <span className="jp-MlopsLab-visuallyHidden">Compare</span>
            </th>
            <th className="jp-MlopsLab-col-run">Run</th>
            <th>Status</th>
            <th>Started</th>
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
                    aria-label={`Compare ${label}`}
                    checked={selected}
                    onChange={() => props.onToggleSelected(run)}
                  />
                </td>
                <td className="jp-MlopsLab-runName">
                  <button
                    className="jp-MlopsLab-linkButton"
                    title={`Show the details of ${run.run_id}`}
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
  onPrevious: () => void;
  onNext: () => void;
}

/** Previous / Next over the server's page tokens. */
export function Pager(props: IPagerProps): JSX.Element {
  return (
    <div className="jp-MlopsLab-pager">
      <button
        className="jp-mod-styled jp-MlopsLab-previous"
        disabled={!props.canGoBack || props.busy}
        onClick={props.onPrevious}
      >
        Previous
      </button>
      <span className="jp-MlopsLab-pageInfo">
        Page {props.pageIndex + 1} · {props.count} runs
      </span>
      <button
        className="jp-mod-styled jp-MlopsLab-next"
        disabled={!props.canGoForward || props.busy}
        onClick={props.onNext}
      >
        Next
      </button>
    </div>
  );
}
