/**
 * The state behind the Runs section: experiments, one page of runs, the filter,
 * the sort, the selected runs and the run whose details are shown.
 *
 * Kept outside React so the components only render it and listen to
 * `stateChanged`; every request goes through `IMlopsLabAPI`.
 */
import type { IStateDB } from '@jupyterlab/statedb';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type {
  Experiment,
  RunDetail,
  RunNotebook,
  RunsPage,
  RunSummary
} from '../api/types';
import { MlopsLabResponseError } from '../request';
import { describeError } from '../status';
import type { IMlopsLabAPI } from '../tokens';
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
  experiments: Loadable<Experiment[]>;
  /** The id of the chosen experiment. */
  experimentId: string | null;
  /** The filter the page was asked with. */
  filter: string;
  /** MLflow's message when the server refused the filter (a 400). */
  filterError: string | null;
  sort: ISort | null;
  page: Loadable<RunsPage>;
  /** 0-based index of the page shown. */
  pageIndex: number;
  canGoBack: boolean;
  /** The selected runs, kept across pages, in the order they were picked. */
  selected: RunSummary[];
  detail: IDetailState | null;
}

/** Opens a run's notebook snapshot somewhere in JupyterLab. */
export type SnapshotOpener = (
  run: RunDetail,
  notebook: RunNotebook
) => Promise<void> | void;

export interface IRunsModelOptions {
  api: IMlopsLabAPI;
  /** Where the last chosen experiment is remembered. */
  stateDB?: IStateDB | null;
  /** Opens snapshots; without it the details view offers no "Open snapshot". */
  openSnapshot?: SnapshotOpener | null;
  /** Runs per page. */
  pageSize?: number;
}

/** The state DB key of the last chosen experiment. */
export const STATE_KEY = 'mlops-lab:runs';

export const DEFAULT_PAGE_SIZE = 50;

export class RunsModel implements IDisposable {
  constructor(options: IRunsModelOptions) {
    this._api = options.api;
    this._stateDB = options.stateDB ?? null;
    this._openSnapshot = options.openSnapshot ?? null;
    this._pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
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
   * Fetch the experiments and choose one: the one kept, the remembered one, or
   * the most recently updated. Never rejects.
   */
  async loadExperiments(): Promise<void> {
    const request = ++this._experimentsRequest;
    this._update({ experiments: { status: 'loading' } });
    let experiments: Experiment[];
    try {
      experiments = (await this._api.experiments()).experiments;
    } catch (error) {
      if (request === this._experimentsRequest) {
        this._update({
          experiments: {
            status: 'failed',
            message: describeError(error).message
          }
        });
      }
      return;
    }
    if (request !== this._experimentsRequest || this._isDisposed) {
      return;
    }
    this._update({ experiments: { status: 'ready', value: experiments } });
    const ids = experiments.map(e => e.experiment_id);
    let choice = this._state.experimentId;
    if (choice === null || !ids.includes(choice)) {
      const remembered = await this._remembered();
      choice =
        remembered !== null && ids.includes(remembered) ? remembered : null;
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

  /** Show an experiment's runs from the first page; never rejects. */
  async selectExperiment(experimentId: string, remember = true): Promise<void> {
    this._tokens.reset();
    this._update({
      experimentId,
      filterError: null,
      sort: null,
      filter: '',
      selected: [],
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

  /** Select a run for the compare chart, or unselect it. */
  toggleSelected(run: RunSummary): void {
    const selected = this._state.selected;
    const next = selected.some(r => r.run_id === run.run_id)
      ? selected.filter(r => r.run_id !== run.run_id)
      : [...selected, run];
    this._update({ selected: next });
  }

  clearSelection(): void {
    this._update({ selected: [] });
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
      run = { status: 'failed', message: describeError(error).message };
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
      snapshotError = describeError(error).message;
    }
    if (this._state.detail?.runId === run.run_id) {
      this._update({ detail: { ...this._state.detail, snapshotError } });
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /**
   * Fetch the page the token stack points at, or, given a new filter or sort,
   * the first page with it. A refused filter (400) keeps the rows, the filter
   * and the sort shown before and only sets `filterError`.
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
    this._update({ page: { status: 'loading', previous: shown } });
    try {
      const value = await this._api.runs({
        experiment,
        filter: filter || undefined,
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
      if (error instanceof MlopsLabResponseError && error.status === 400) {
        this._update({ page: before, filterError: error.message });
      } else {
        this._update({
          page: { status: 'failed', message: describeError(error).message },
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
  private readonly _stateDB: IStateDB | null;
  private readonly _openSnapshot: SnapshotOpener | null;
  private _pageSize: number;
  private readonly _tokens = new PageTokenStack();
  private _state: IRunsState = {
    experiments: { status: 'idle' },
    experimentId: null,
    filter: '',
    filterError: null,
    sort: null,
    page: { status: 'idle' },
    pageIndex: 0,
    canGoBack: false,
    selected: [],
    detail: null
  };
  private readonly _stateChanged = new Signal<this, IRunsState>(this);
  private _experimentsRequest = 0;
  private _pageRequest = 0;
  private _isDisposed = false;
}
