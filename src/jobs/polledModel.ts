/**
 * What the Jobs section's models (executions, schedules) share: a state changed
 * by partial updates and announced on `stateChanged`, a refresh that re-arms a
 * timer with a delay chosen from what it just read, and per-row actions that
 * disable the row's buttons while they run and turn a failure into the state's
 * error.
 *
 * A timer rather than Lumino's `Poll`: the next delay depends on what the last
 * answer listed (fast while something runs, or just after a schedule's next
 * slot), which a `Poll`'s fixed frequency cannot say.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { messageOf } from '../request';

/** The part of a polled state the base class reads and writes. */
export interface IPolledState {
  /** The last refresh's or action's error message, or null. */
  error: string | null;
  /** Ids whose action is on its way (their buttons are disabled). */
  busy: string[];
}

export abstract class PolledModel<
  S extends IPolledState
> implements IDisposable {
  constructor(options: {
    initial: S;
    trans: TranslationBundle;
    /** Whether the section can be seen; no polling while it cannot. */
    isVisible?: () => boolean;
  }) {
    this._state = options.initial;
    this._trans = options.trans;
    this._isVisible = options.isVisible ?? (() => true);
  }

  get state(): S {
    return this._state;
  }

  get stateChanged(): ISignal<this, S> {
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

  /** The delay in ms before the next poll given what is listed. */
  abstract nextDelay(): number;

  /**
   * Read now (unless the section is hidden), then schedule the next poll; an
   * earlier scheduled poll is dropped, so an action's refresh does not double
   * the polling.
   */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._clearTimer();
    if (this._isVisible()) {
      await this.read();
    }
    if (!this._disposed && this._started) {
      this._timer = setTimeout(() => void this.refresh(), this.nextDelay());
    }
  }

  dispose(): void {
    this._disposed = true;
    this._clearTimer();
    Signal.clearData(this);
  }

  /** One poll's reads; failures go into the state rather than out. */
  protected abstract read(): Promise<void>;

  /**
   * Run a row's action with its id marked busy; a second click while it runs
   * does nothing, and a failure becomes the state's error, prefixed with the
   * short id so the user knows which row it was about.
   */
  protected async busyWhile(
    id: string,
    action: () => Promise<void>
  ): Promise<void> {
    if (this._state.busy.includes(id)) {
      return;
    }
    this._setPolled({ busy: [...this._state.busy, id], error: null });
    try {
      await action();
    } catch (reason) {
      this._setPolled({
        error: this._trans.__('%1: %2', id.slice(0, 8), messageOf(reason))
      });
    } finally {
      this._setPolled({ busy: this._state.busy.filter(b => b !== id) });
    }
  }

  /** Merge `change` into the state and announce it; nothing once disposed. */
  protected setState(change: Partial<S>): void {
    if (this._disposed) {
      return;
    }
    this._state = { ...this._state, ...change };
    this._stateChanged.emit(this._state);
  }

  /** `setState` for the fields every polled state has (`S` may add more). */
  private _setPolled(change: Partial<IPolledState>): void {
    this.setState(change as Partial<S>);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private readonly _trans: TranslationBundle;
  private readonly _isVisible: () => boolean;
  private _state: S;
  private readonly _stateChanged = new Signal<this, S>(this);
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _started = false;
  private _disposed = false;
}
