/**
 * One page of runs: name, status, start time, then the page's params and
 * metrics (headers sort through the server), a checkbox per run to compare, and
 * Previous / Next. The explorer passes the columns the user chose and nests runs
 * under their parent to any depth (a notebook run, its model runs, a search's
 * candidates), each level expanded and collapsed per row.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { RunsPage, RunSummary } from '../api/types';
import type { IColumnChoice } from '../runs/columns';
import { formatMetric, formatTime, runLabel } from '../runs/format';
import type { IRunsState, Loadable, RunsModel } from '../runs/model';
import { IRunNode, nestRuns, nodesById } from '../runs/nesting';
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
  /** The param and metric columns to show; all of the page's without it. */
  columns?: IColumnChoice;
  /**
   * Nest runs under their parent on the page, to any depth; `expanded` holds the
   * runs whose children are shown. Without it, every run is a row of its own.
   */
  nesting?: {
    expanded: ReadonlySet<string>;
    onToggle: (runId: string) => void;
    /**
     * The children fetched from the server for an expanded run (all of them,
     * whichever page they are on); the page's own children until they arrive.
     */
    fetched?: ReadonlyMap<string, Loadable<RunSummary[]>>;
  };
}

/** Where a row sits in the table: how deep, and what it shows about its children. */
interface IRowPlace {
  depth: number;
  /** The children known for the run (on the page or fetched), for the count. */
  childCount: number;
  open: boolean;
  orphanOf: string | null;
  /** The React key, unique in the table; the run id when left out. */
  key?: string;
}

type RowRenderer = (run: RunSummary, place: IRowPlace) => JSX.Element;

/**
 * The depth of a row for its CSS (`--jp-MlopsLab-depth`), which moves the
 * run's name right by one step per level.
 */
function depthStyle(depth: number): React.CSSProperties {
  return { ['--jp-MlopsLab-depth' as string]: String(depth) };
}

/**
 * The rows of the page's tree: each top-level run, and under each expanded run
 * its children (the ones fetched from the server once they arrive, the page's
 * own until then), one level deeper, recursively.
 *
 * A run is never shown inside itself: a child already on the path from the top
 * (a loop in the fetched runs) is skipped.
 */
function nestedRows(
  roots: IRunNode[],
  nesting: NonNullable<IRunsTableProps['nesting']>,
  options: {
    renderRow: RowRenderer;
    trans: TranslationBundle;
    /** Columns after the selection column, for the note rows. */
    columnCount: number;
  }
): JSX.Element[] {
  const { renderRow, trans } = options;
  const onPage = nodesById(roots);
  const rows: JSX.Element[] = [];

  const visit = (
    run: RunSummary,
    pageChildren: readonly IRunNode[],
    orphanOf: string | null,
    depth: number,
    path: readonly string[]
  ): void => {
    const open = nesting.expanded.has(run.run_id);
    const fetched = nesting.fetched?.get(run.run_id);
    const children: [RunSummary, readonly IRunNode[]][] =
      fetched?.status === 'ready'
        ? fetched.value.map(child => [
            child,
            onPage.get(child.run_id)?.children ?? []
          ])
        : pageChildren.map(node => [node.run, node.children]);
    const key = [...path, run.run_id].join('/');
    rows.push(
      renderRow(run, {
        depth,
        childCount: children.length,
        open,
        orphanOf,
        key
      })
    );
    if (!open) {
      return;
    }
    const below = [...path, run.run_id];
    for (const [child, grandchildren] of children) {
      if (!below.includes(child.run_id)) {
        visit(child, grandchildren, null, depth + 1, below);
      }
    }
    const note =
      fetched?.status === 'loading'
        ? trans.__('Fetching the child runs…')
        : fetched?.status === 'failed'
          ? fetched.message
          : fetched?.status === 'ready' && children.length === 0
            ? trans.__('No child runs.')
            : null;
    if (note) {
      rows.push(
        <tr
          key={`${key}.note`}
          className="jp-MlopsLab-childNote"
          data-depth={depth + 1}
          style={depthStyle(depth + 1)}
          role={fetched?.status === 'failed' ? 'alert' : undefined}
        >
          <td />
          <td colSpan={options.columnCount}>{note}</td>
        </tr>
      );
    }
  };

  for (const root of roots) {
    visit(root.run, root.children, root.orphanOf, 0, []);
  }
  return rows;
}

export function RunsTable(props: IRunsTableProps): JSX.Element {
  const { page, sort, trans, nesting } = props;
  const paramKeys = props.columns?.params ?? page.param_keys;
  const metricKeys = props.columns?.metrics ?? page.metric_keys;
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

  const renderRow: RowRenderer = (run, place) => {
    const selected = props.selectedIds.has(run.run_id);
    const label = runLabel(run);
    return (
      <tr
        key={place.key ?? run.run_id}
        className={
          'jp-MlopsLab-runRow' +
          (run.run_id === props.activeRunId ? ' jp-MlopsLab-active' : '') +
          (place.depth > 0 ? ' jp-MlopsLab-childRow' : '')
        }
        data-run-id={run.run_id}
        data-parent-run-id={run.parent_run_id ?? undefined}
        data-depth={nesting ? place.depth : undefined}
        style={nesting ? depthStyle(place.depth) : undefined}
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
          {nesting && (
            <button
              className="jp-MlopsLab-expand"
              // Any run may have children (a notebook run its model runs, a
              // search run its candidates), on this page or another one.
              aria-expanded={place.open}
              aria-label={
                place.open
                  ? trans.__('Hide the child runs of %1', label)
                  : trans.__('Show the child runs of %1', label)
              }
              onClick={() => nesting.onToggle(run.run_id)}
            ></button>
          )}
          <button
            className="jp-MlopsLab-linkButton"
            title={trans.__('Show the details of %1', run.run_id)}
            onClick={() => props.onShowDetails(run.run_id)}
          >
            {label}
          </button>
          {place.childCount > 0 && (
            <span className="jp-MlopsLab-childCount">
              {trans._n('%1 child', '%1 children', place.childCount)}
            </span>
          )}
          {place.orphanOf && (
            <span
              className="jp-MlopsLab-childOf"
              title={trans.__('Parent run %1', place.orphanOf)}
            >
              {trans.__('child of %1', place.orphanOf.slice(0, 8))}
            </span>
          )}
        </td>
        <td>
          <span
            className={`jp-MlopsLab-status jp-MlopsLab-status-${run.status.toLowerCase()}`}
          >
            {run.status}
          </span>
        </td>
        <td className="jp-MlopsLab-time">{formatTime(run.start_time)}</td>
        {paramKeys.map(key => (
          <td
            key={`p.${key}`}
            className="jp-MlopsLab-param"
            data-column={`params.${key}`}
          >
            {run.params[key] ?? ''}
          </td>
        ))}
        {metricKeys.map(key => (
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
  };

  return (
    <div className="jp-MlopsLab-tableScroll">
      <table className="jp-MlopsLab-runsTable">
        <thead>
          {(paramKeys.length > 0 || metricKeys.length > 0) && (
            <tr className="jp-MlopsLab-groupRow">
              <th className="jp-MlopsLab-col-select" />
              <th className="jp-MlopsLab-col-run" />
              <th colSpan={2} />
              {paramKeys.length > 0 && (
                <th colSpan={paramKeys.length}>{trans.__('Params')}</th>
              )}
              {metricKeys.length > 0 && (
                <th colSpan={metricKeys.length}>{trans.__('Metrics')}</th>
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
            {paramKeys.map(key => header('params', key))}
            {metricKeys.map(key => header('metrics', key))}
          </tr>
        </thead>
        <tbody>
          {nesting
            ? nestedRows(nestRuns(page.runs), nesting, {
                renderRow,
                trans,
                columnCount: 3 + paramKeys.length + metricKeys.length
              })
            : page.runs.map(run =>
                renderRow(run, {
                  depth: 0,
                  childCount: 0,
                  open: false,
                  orphanOf: null
                })
              )}
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

/** The pager of a runs view, driving its `RunsModel`. */
export function ModelPager(props: {
  model: RunsModel;
  state: IRunsState;
  shown: RunsPage;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, state, shown } = props;
  return (
    <Pager
      pageIndex={state.pageIndex}
      count={shown.runs.length}
      canGoBack={state.canGoBack}
      canGoForward={Boolean(shown.next_page_token)}
      busy={state.page.status === 'loading'}
      trans={props.trans}
      onPrevious={() => void model.previousPage()}
      onNext={() => void model.nextPage()}
    />
  );
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
