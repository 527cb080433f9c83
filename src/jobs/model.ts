/**
 * The Jobs section's state: the recent executions, refreshed by polling.
 *
 * It polls `GET /executions` every second while one is QUEUED or RUNNING (the
 * cells-done counter moves), and every 10 s otherwise (a job submitted from the
 * magic or the CLI shows up without a reload); while the sidebar is hidden it
 * waits. An execution's log, once opened, is read from its last offset on each
 * tick until the server says it is complete.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { UUID } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import type { Execution, Submission } from '../api/types';
import type { IJobsAPI } from './client';

/** Poll delays in ms: while something runs, and when all is finished. */
export const ACTIVE_DELAY = 1000;
export const IDLE_DELAY = 10000;

/** How many executions the section lists. */
export const LIST_SIZE = 30;

export interface IJobsState {
  executions: Execution[];
  /** null until the first answer. */
  loaded: boolean;
  /** The last refresh's error message, or null. */
  error: string | null;
  /** Logs opened in the section, by execution id. */
  logs: Record<string, { text: string; offset: number; complete: boolean }>;
  /** Ids whose cancel or re-run is on its way (their buttons are disabled). */
  busy: string[];
}

export function isActive(execution: Execution): boolean {
  return execution.state === 'QUEUED' || execution.state === 'RUNNING';
}

export class JobsModel {
  constructor(options: {
    api: IJobsAPI;
    trans: TranslationBundle;
    /** Whether the section can be seen; no polling while it cannot. */
    isVisible?: () => boolean;
  }) {
    this._api = options.api;
    this._trans = options.trans;
    this._isVisible = options.isVisible ?? (() => true);
  }

  get state(): IJobsState {
    return this._state;
  }

  get stateChanged(): ISignal<this, IJobsState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Start polling (the first refresh at once). */
  start(): void {
    if (!this._started) {
      this._started = true;
      void this.refresh();
    }
  }

  /** The delay before the next poll given what is listed. */
  nextDelay(): number {
    return this._state.executions.some(isActive) ? ACTIVE_DELAY : IDLE_DELAY;
  }

  /** Fetch the list (and open logs) now, then schedule the next poll. */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._clearTimer();
    if (this._isVisible()) {
      try {
        const page = await this._api.executions({ maxResults: LIST_SIZE });
        this._set({ executions: page.executions, loaded: true, error: null });
      } catch (reason) {
        this._set({ loaded: true, error: messageOf(reason) });
      }
      await this._readLogs();
    }
    if (!this._disposed && this._started) {
      this._timer = setTimeout(() => void this.refresh(), this.nextDelay());
    }
  }

  /** Put a submit's executions at the top at once, and poll fast from now. */
  addSubmission(submission: Submission): void {
    const ids = new Set(submission.executions.map(e => e.id));
    this._set({
      executions: [
        ...submission.executions,
        ...this._state.executions.filter(e => !ids.has(e.id))
      ]
    });
    void this.refresh();
  }

  async cancel(id: string): Promise<void> {
    await this._busyWhile(id, async () => {
      const execution = await this._api.cancel(id);
      this._set({
        executions: this._state.executions.map(e =>
          e.id === id ? execution : e
        )
      });
    });
  }

  async rerun(id: string): Promise<void> {
    await this._busyWhile(id, async () => {
      const submission = await this._api.rerun(id, newKey());
      this.addSubmission(submission);
    });
  }

  /** Show or hide an execution's log; shown logs follow the execution. */
  async toggleLog(id: string): Promise<void> {
    const logs = { ...this._state.logs };
    if (logs[id]) {
      delete logs[id];
      this._set({ logs });
      return;
    }
    logs[id] = { text: '', offset: 0, complete: false };
    this._set({ logs });
    await this._readLogs();
  }

  dispose(): void {
    this._disposed = true;
    this._clearTimer();
    Signal.clearData(this);
  }

  private async _readLogs(): Promise<void> {
    for (const [id, log] of Object.entries(this._state.logs)) {
      if (log.complete) {
        continue;
      }
      try {
        const slice = await this._api.log(id, log.offset);
        const current = this._state.logs[id];
        if (!current || current.offset !== log.offset) {
          continue; // closed, or read by another tick meanwhile
        }
        this._set({
          logs: {
            ...this._state.logs,
            [id]: {
              text: current.text + slice.text,
              offset: slice.next_offset,
              complete: slice.complete
            }
          }
        });
      } catch (reason) {
        this._set({
          logs: {
            ...this._state.logs,
            [id]: {
              text: `${log.text}\n[${messageOf(reason)}]`,
              offset: log.offset,
              complete: true
            }
          }
        });
      }
    }
  }

  private async _busyWhile(
    id: string,
    action: () => Promise<void>
  ): Promise<void> {
    if (this._state.busy.includes(id)) {
      return;
    }
    this._set({ busy: [...this._state.busy, id], error: null });
    try {
      await action();
    } catch (reason) {
      this._set({
        error: this._trans.__('%1: %2', id.slice(0, 8), messageOf(reason))
      });
    } finally {
      this._set({ busy: this._state.busy.filter(b => b !== id) });
    }
  }

  private _set(change: Partial<IJobsState>): void {
    if (this._disposed) {
      return;
    }
    this._state = { ...this._state, ...change };
    this._stateChanged.emit(this._state);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private readonly _api: IJobsAPI;
  private readonly _trans: TranslationBundle;
  private readonly _isVisible: () => boolean;
  private _state: IJobsState = {
    executions: [],
    loaded: false,
    error: null,
    logs: {},
    busy: []
  };
  private readonly _stateChanged = new Signal<this, IJobsState>(this);
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _started = false;
  private _disposed = false;
}

/**
 * A fresh idempotency key. Lumino's uuid4 rather than `crypto.randomUUID`, which
 * browsers only offer on https or localhost: JupyterLab is often served over
 * plain http on a remote host.
 */
export function newKey(): string {
  return UUID.uuid4();
}

function messageOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
