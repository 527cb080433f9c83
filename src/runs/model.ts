/**
 * The state behind the Runs section: experiments, one page of runs, the filter,
 * the sort, the selected runs and the run whose details are shown.
 *
 * Kept outside React so the components only render it and listen to
 * `stateChanged`; every request goes through `IMlopsLabAPI`.
 */
import type { IStateDB } from '@jupyterlab/statedb';
import type { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type {
  Comparison,
  Experiment,
  ExperimentList,
  RunDetail,
  RunNotebook,
  RunsPage,
  RunSummary
} from '../api/types';
import { MlopsLabResponseError } from '../request';
import { describeError } from '../status';
import type { IExperimentsQuery, IMlopsLabAPI } from '../tokens';
import { PageTokenStack } from './pagination';
import { ColumnKind, ISort, orderByClause, toggleSort } from './sorting';

/** Something fetched: not yet asked, on its way, there, or why not. */
export type Loadable<T> =
  | { status: 'idle' }
  | { status: 'loading'; previous?: T }
  | { status: 'ready'; value: T }
  | { status: 'failed'; message: string };

/** The details view of one run. */
export interface IDetailState {
  runId: string;
  run: Loadable<RunDetail>;
  /** Why the snapshot could not be opened, if it could not. */
  snapshotError: string | null;
}

/** Everything the Runs section shows. */
export interface IRunsState {
  /** The experiments loaded so far (pages appended by "Load more"). */
  experiments: Loadable<Experiment[]>;
  /** The token of the next page of experiments, if there is one. */
  experimentsNextToken: string | null;
  /** The name search the experiments were asked with. */
  experimentName: string;
  /** Why "Load more" or a name search failed, shown without losing the list. */
  experimentsError: string | null;
  /** The id of the chosen experiment. */
  experimentId: string | null;
  /** The filter the page was asked with. */
  filter: string;
  /**
   * The server's message when it refused the filter or the order (a 400 whose
   * `param` is `filter` or `order_by`), shown under the filter box.
   */
  filterError: string | null;
  /** A short notice about the page, e.g. that a stale token sent it back to page 1. */
  notice: string | null;
  sort: ISort | null;
  page: Loadable<RunsPage>;
  /** 0-based index of the page shown. */
  pageIndex: number;
  canGoBack: boolean;
  /** The selected runs, kept across pages, in the order they were picked. */
  selected: RunSummary[];
  /** The server's comparison of the selected runs, once two or more are. */
  comparison: Loadable<Comparison>;
  detail: IDetailState | null;
}

/** Opens a run's notebook snapshot somewhere in JupyterLab. */
export type SnapshotOpener = (
  run: RunDetail,
  notebook: RunNotebook
) => Promise<void> | void;

export interface IRunsModelOptions {
  api: IMlopsLabAPI;
  trans: TranslationBundle;
  /** Where the last chosen experiment is remembered. */
  stateDB?: IStateDB | null;
  /** Opens snapshots; without it the details view offers no "Open snapshot". */
  openSnapshot?: SnapshotOpener | null;
  /** Runs per page. */
  pageSize?: number;
  /**
   * An MLflow filter every page is asked with, joined to the user's filter by
   * AND and never shown as theirs: the sidebar asks for `TOP_LEVEL_FILTER`.
   */
  baseFilter?: string;
}

/**
 * The experiments to show: the list, or the one before while it is fetched
 * again; `null` before the first answer or after a failure.
 */
export function shownExperiments(
  experiments: Loadable<Experiment[]>
): Experiment[] | null {
  if (experiments.status === 'ready') {
    return experiments.value;
  }
  if (experiments.status === 'loading') {
    return experiments.previous ?? null;
  }
  return null;
}

/** The state DB key of the last chosen experiment. */
export const STATE_KEY = 'mlops-lab:runs';

export const DEFAULT_PAGE_SIZE = 50;

/** Experiments per page of the picker: a team server holds thousands. */
export const EXPERIMENTS_PAGE_SIZE = 100;

/** The most child runs fetched when a run is expanded in the explorer. */
export const MAX_CHILDREN = 200;

/** MLflow's filter for the runs whose parent is `parentId`. */
export function childrenFilter(parentId: string): string {
  return `tags.\`mlflow.parentRunId\` = '${parentId.replace(/'/g, "''")}'`;
}

/**
 * MLflow's filter for the runs nested under no other run: the notebook runs,
 * without the model runs of their fits or a search's candidates. The server
 * filters, so a page holds as many notebook runs as it can, whatever number of
 * model runs a notebook made.
 */
export const TOP_LEVEL_FILTER = 'tags.`mlflow.parentRunId` IS NULL';

/**
 * Two MLflow filters as one (MLflow's filters have AND, no OR or parentheses,
 * so joining them by AND keeps both whole).
 */
export function joinFilters(first: string, second: string): string {
  return [first.trim(), second.trim()].filter(Boolean).join(' AND ');
}

/** The most runs `GET /compare` takes at once. */
export const MAX_COMPARED = 50;

export class RunsModel implements IDisposable {
  constructor(options: IRunsModelOptions) {
    this._api = options.api;
    this._trans = options.trans;
    this._stateDB = options.stateDB ?? null;
    this._openSnapshot = options.openSnapshot ?? null;
    this._pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this._baseFilter = options.baseFilter ?? '';
  }

  get state(): IRunsState {
    return this._state;
  }

  /** Emitted with the new state after each change. */
  get stateChanged(): ISignal<this, IRunsState> {
    return this._stateChanged;
  }

  /** Can the details view open snapshots? */
  get canOpenSnapshot(): boolean {
    return this._openSnapshot !== null;
  }

  get pageSize(): number {
    return this._pageSize;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Change the page size; reloads from the first page if it changed. */
  setPageSize(size: number): void {
    const next = Math.max(1, Math.min(1000, Math.floor(size)));
    if (next === this._pageSize) {
      return;
    }
    this._pageSize = next;
    if (this._state.experimentId !== null) {
      this._tokens.reset();
      void this._loadPage();
    }
  }

  /**
   * Fetch the first page of experiments (with the name search in effect) and
   * choose one: the one kept, the remembered one, or the most recently updated.
   * Never rejects.
   */
  async loadExperiments(): Promise<void> {
    const request = ++this._experimentsRequest;
    const listed = shownExperiments(this._state.experiments);
    // The list shown stays while it is fetched again, so the section below it
    // (a chart's choices, the details open) is not torn down by a refresh.
    this._update({
      experiments: { status: 'loading', previous: listed ?? undefined },
      experimentsError: null
    });
    let page: ExperimentList;
    try {
      page = await this._api.experiments(this._experimentsQuery());
    } catch (error) {
      if (request === this._experimentsRequest) {
        this._update({
          experiments: {
            status: 'failed',
            message: describeError(error, this._trans).message
          }
        });
      }
      return;
    }
    if (request !== this._experimentsRequest || this._isDisposed) {
      return;
    }
    // The experiment shown may sit on a later page ("Load more"): it stays in
    // the list, after the first page, rather than being swapped for another.
    const chosen = (listed ?? []).find(
      e =>
        e.experiment_id === this._state.experimentId &&
        !page.experiments.some(p => p.experiment_id === e.experiment_id)
    );
    const complete = page.next_page_token === null;
    const experiments =
      chosen && !complete ? [...page.experiments, chosen] : page.experiments;
    this._update({
      experiments: { status: 'ready', value: experiments },
      experimentsNextToken: page.next_page_token
    });
    const ids = experiments.map(e => e.experiment_id);
    let choice = this._state.experimentId;
    if (choice === null || !ids.includes(choice)) {
      const remembered = await this._remembered();
      // Past the first page a remembered experiment may well exist: ask for it
      // rather than forget it; with every experiment listed, it is gone.
      choice =
        remembered !== null && (ids.includes(remembered) || !complete)
          ? remembered
          : null;
    }
    if (choice === null && ids.length > 0) {
      choice = ids[0];
    }
    if (choice === null) {
      this._update({ experimentId: null, page: { status: 'idle' } });
    } else if (choice === this._state.experimentId) {
      await this._loadPage();
    } else {
      await this.selectExperiment(choice, false);
    }
  }

  /**
   * Append the next page of experiments to the picker; never rejects.
   */
  async loadMoreExperiments(): Promise<void> {
    const shown = this._state.experiments;
    const token = this._state.experimentsNextToken;
    if (shown.status !== 'ready' || !token) {
      return;
    }
    const request = ++this._experimentsRequest;
    try {
      const page = await this._api.experiments(this._experimentsQuery(token));
      if (request !== this._experimentsRequest) {
        return;
      }
      const seen = new Set(shown.value.map(e => e.experiment_id));
      this._update({
        experiments: {
          status: 'ready',
          value: [
            ...shown.value,
            ...page.experiments.filter(e => !seen.has(e.experiment_id))
          ]
        },
        experimentsNextToken: page.next_page_token,
        experimentsError: null
      });
    } catch (error) {
      if (request === this._experimentsRequest) {
        this._update({
          experimentsError: describeError(error, this._trans).message
        });
      }
    }
  }

  /**
   * Show only the experiments whose name contains `name` (any case), from their
   * first page; the chosen experiment stays chosen. Never rejects.
   */
  async searchExperiments(name: string): Promise<void> {
    const request = ++this._experimentsRequest;
    const trimmed = name.trim();
    try {
      const page = await this._api.experiments(
        this._experimentsQuery(undefined, trimmed)
      );
      if (request !== this._experimentsRequest) {
        return;
      }
      this._update({
        experiments: { status: 'ready', value: page.experiments },
        experimentsNextToken: page.next_page_token,
        experimentName: trimmed,
        experimentsError: null
      });
    } catch (error) {
      if (request === this._experimentsRequest) {
        this._update({
          experimentsError: describeError(error, this._trans).message
        });
      }
    }
  }

  /** Show an experiment's runs from the first page; never rejects. */
  async selectExperiment(experimentId: string, remember = true): Promise<void> {
    this._tokens.reset();
    this._update({
      experimentId,
      filterError: null,
      notice: null,
      sort: null,
      filter: '',
      selected: [],
      comparison: { status: 'idle' },
      detail: null
    });
    if (remember && this._stateDB) {
      this._stateDB.save(STATE_KEY, { experiment: experimentId }).catch(() => {
        // Remembering is a convenience; failing to is not worth a message.
      });
    }
    await this._loadPage();
  }

  /** Apply a filter in MLflow's syntax from the first page; never rejects. */
  async setFilter(filter: string): Promise<void> {
    await this._loadPage({ filter: filter.trim() });
  }

  /** Sort by a column (toggling its direction when sorted already); never rejects. */
  async sortBy(kind: ColumnKind, key: string): Promise<void> {
    await this._loadPage({ sort: toggleSort(this._state.sort, kind, key) });
  }

  async nextPage(): Promise<void> {
    const page = this._state.page;
    if (page.status !== 'ready' || !page.value.next_page_token) {
      return;
    }
    this._tokens.next(page.value.next_page_token);
    await this._loadPage();
  }

  async previousPage(): Promise<void> {
    if (!this._tokens.canGoBack) {
      return;
    }
    this._tokens.previous();
    await this._loadPage();
  }

  /** Fetch the experiments and the page shown again. */
  async refresh(): Promise<void> {
    await this.loadExperiments();
  }

  /**
   * Select a run for the comparison, or unselect it; with two or more selected,
   * the server compares them (one comparison for every face). Never rejects.
   */
  async toggleSelected(run: RunSummary): Promise<void> {
    const selected = this._state.selected;
    const next = selected.some(r => r.run_id === run.run_id)
      ? selected.filter(r => r.run_id !== run.run_id)
      : [...selected, run].slice(-MAX_COMPARED);
    this._update({ selected: next });
    await this._compare();
  }

  clearSelection(): void {
    ++this._compareRequest;
    this._update({ selected: [], comparison: { status: 'idle' } });
  }

  /** Show a run's details; never rejects. */
  async showDetails(runId: string): Promise<void> {
    this._update({
      detail: { runId, run: { status: 'loading' }, snapshotError: null }
    });
    let run: Loadable<RunDetail>;
    try {
      run = { status: 'ready', value: await this._api.run(runId) };
    } catch (error) {
      run = {
        status: 'failed',
        message: describeError(error, this._trans).message
      };
    }
    if (this._state.detail?.runId === runId) {
      this._update({ detail: { runId, run, snapshotError: null } });
    }
  }

  closeDetails(): void {
    this._update({ detail: null });
  }

  /** Open the notebook snapshot of the run shown in details; never rejects. */
  async openSnapshot(): Promise<void> {
    const detail = this._state.detail;
    if (!detail || detail.run.status !== 'ready' || !this._openSnapshot) {
      return;
    }
    const run = detail.run.value;
    let snapshotError: string | null = null;
    try {
      const notebook = await this._api.runNotebook(run.run_id);
      await this._openSnapshot(run, notebook);
    } catch (error) {
      snapshotError = describeError(error, this._trans).message;
    }
    if (this._state.detail?.runId === run.run_id) {
      this._update({ detail: { ...this._state.detail, snapshotError } });
    }
  }

  /**
   * The child runs of a run (its grid search's fits), newest first, up to
   * `MAX_CHILDREN`, whichever page they are on; never rejects.
   *
   * The server has no "children of" query yet: MLflow's filter on the
   * `mlflow.parentRunId` tag does it within the experiment shown.
   */
  async fetchChildren(parentId: string): Promise<Loadable<RunSummary[]>> {
    const experiment = this._state.experimentId;
    if (experiment === null) {
      return { status: 'ready', value: [] };
    }
    try {
      const page = await this._api.runs({
        experiment,
        filter: childrenFilter(parentId),
        maxResults: MAX_CHILDREN
      });
      return { status: 'ready', value: page.runs };
    } catch (error) {
      return {
        status: 'failed',
        message: describeError(error, this._trans).message
      };
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Ask the server to compare the selected runs (two or more). */
  private async _compare(): Promise<void> {
    const request = ++this._compareRequest;
    const ids = this._state.selected.map(r => r.run_id);
    if (ids.length < 2) {
      this._update({ comparison: { status: 'idle' } });
      return;
    }
    const previous =
      this._state.comparison.status === 'ready'
        ? this._state.comparison.value
        : undefined;
    this._update({ comparison: { status: 'loading', previous } });
    let comparison: Loadable<Comparison>;
    try {
      comparison = { status: 'ready', value: await this._api.compare(ids) };
    } catch (error) {
      comparison = {
        status: 'failed',
        message: describeError(error, this._trans).message
      };
    }
    if (request === this._compareRequest) {
      this._update({ comparison });
    }
  }

  private _experimentsQuery(
    pageToken?: string,
    name = this._state.experimentName
  ): IExperimentsQuery {
    return {
      name: name || undefined,
      maxResults: EXPERIMENTS_PAGE_SIZE,
      pageToken
    };
  }

  /**
   * Fetch the page the token stack points at, or, given a new filter or sort,
   * the first page with it.
   *
   * The server's 400s are told apart by their `param`: a refused filter or
   * order keeps the rows, the filter and the sort shown before and only sets
   * `filterError`; a stale page token (the runs changed under it) starts again
   * from the first page with a notice; any other 400 is a general error.
   */
  private async _loadPage(change?: {
    filter?: string;
    sort?: ISort | null;
  }): Promise<void> {
    const experiment = this._state.experimentId;
    if (experiment === null) {
      return;
    }
    const request = ++this._pageRequest;
    const before = this._settledPage();
    const filter = change?.filter ?? this._state.filter;
    const sort = change?.sort !== undefined ? change.sort : this._state.sort;
    const fromStart = change !== undefined;
    const shown = before.status === 'ready' ? before.value : undefined;
    // The filter and sort are only taken on once the server accepts them.
    this._update({
      page: { status: 'loading', previous: shown },
      notice: null
    });
    try {
      const value = await this._api.runs({
        experiment,
        filter: joinFilters(this._baseFilter, filter) || undefined,
        orderBy: orderByClause(sort),
        maxResults: this._pageSize,
        pageToken: fromStart ? undefined : this._tokens.current
      });
      if (request !== this._pageRequest) {
        return;
      }
      if (fromStart) {
        this._tokens.reset();
      }
      this._update({
        page: { status: 'ready', value },
        filter,
        sort,
        filterError: null,
        pageIndex: this._tokens.pageIndex,
        canGoBack: this._tokens.canGoBack
      });
    } catch (error) {
      if (request !== this._pageRequest) {
        return;
      }
      if (
        error instanceof MlopsLabResponseError &&
        error.status === 400 &&
        (error.param === 'filter' || error.param === 'order_by')
      ) {
        this._update({ page: before, filterError: error.message });
      } else if (
        error instanceof MlopsLabResponseError &&
        error.status === 400 &&
        error.param === 'page_token' &&
        this._tokens.canGoBack &&
        !fromStart
      ) {
        this._tokens.reset();
        await this._loadPage();
        if (request + 1 === this._pageRequest) {
          this._update({
            notice: this._trans.__(
              'The runs changed since that page was fetched: back to the first page.'
            )
          });
        }
      } else {
        this._update({
          page: {
            status: 'failed',
            message: describeError(error, this._trans).message
          },
          pageIndex: this._tokens.pageIndex,
          canGoBack: this._tokens.canGoBack
        });
      }
    }
  }

  /** The page shown, or what it was before a request still on its way. */
  private _settledPage(): Loadable<RunsPage> {
    const page = this._state.page;
    if (page.status !== 'loading') {
      return page;
    }
    return page.previous
      ? { status: 'ready', value: page.previous }
      : { status: 'idle' };
  }

  private async _remembered(): Promise<string | null> {
    if (!this._stateDB) {
      return null;
    }
    try {
      const value = await this._stateDB.fetch(STATE_KEY);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const experiment = (value as { experiment?: unknown }).experiment;
        if (typeof experiment === 'string') {
          return experiment;
        }
      }
    } catch {
      // Nothing remembered.
    }
    return null;
  }

  private _update(change: Partial<IRunsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...change };
    this._stateChanged.emit(this._state);
  }

  private readonly _api: IMlopsLabAPI;
  private readonly _trans: TranslationBundle;
  private readonly _stateDB: IStateDB | null;
  private readonly _openSnapshot: SnapshotOpener | null;
  private _pageSize: number;
  private readonly _baseFilter: string;
  private readonly _tokens = new PageTokenStack();
  private _state: IRunsState = {
    experiments: { status: 'idle' },
    experimentsNextToken: null,
    experimentName: '',
    experimentsError: null,
    experimentId: null,
    filter: '',
    filterError: null,
    notice: null,
    sort: null,
    page: { status: 'idle' },
    pageIndex: 0,
    canGoBack: false,
    selected: [],
    comparison: { status: 'idle' },
    detail: null
  };
  private readonly _stateChanged = new Signal<this, IRunsState>(this);
  private _experimentsRequest = 0;
  private _pageRequest = 0;
  private _compareRequest = 0;
  private _isDisposed = false;
}
