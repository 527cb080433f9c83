/**
 * The state behind the sidebar: the last health answer or why there is none.
 *
 * Kept outside React so the widget, the command and a timer can all ask for a
 * refresh, and React components only listen to `stateChanged`.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { IDisposable } from '@lumino/disposable';

import type { Health } from './api/types';
import { describeError, IProblem } from './status';
import type { IMlopsLabAPI } from './tokens';

/** What the sidebar shows about the server. */
export type HealthState =
  | { status: 'loading' }
  | { status: 'ready'; health: Health }
  | { status: 'failed'; problem: IProblem };

/**
 * Fetches `/health` on demand and, if asked, every `refreshInterval` seconds.
 */
export class SidebarModel implements IDisposable {
  constructor(api: IMlopsLabAPI) {
    this._api = api;
  }

  /** The current state; starts as `loading`. */
  get state(): HealthState {
    return this._state;
  }

  /** Emitted with the new state after each change. */
  get stateChanged(): ISignal<this, HealthState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Refresh every `seconds` seconds; 0 or less stops refreshing on a timer.
   */
  setRefreshInterval(seconds: number): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
    if (seconds > 0 && !this._isDisposed) {
      this._timer = setInterval(() => void this.refresh(), seconds * 1000);
    }
  }

  /**
   * Ask the server for its health; never rejects, failures become the state.
   */
  async refresh(): Promise<void> {
    const request = ++this._requestCount;
    let next: HealthState;
    try {
      next = { status: 'ready', health: await this._api.health() };
    } catch (error) {
      next = { status: 'failed', problem: describeError(error) };
    }
    // A slower, older answer must not overwrite a newer one.
    if (request === this._requestCount && !this._isDisposed) {
      this._state = next;
      this._stateChanged.emit(next);
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.setRefreshInterval(0);
    Signal.clearData(this);
  }

  private readonly _api: IMlopsLabAPI;
  private _state: HealthState = { status: 'loading' };
  private readonly _stateChanged = new Signal<this, HealthState>(this);
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _requestCount = 0;
  private _isDisposed = false;
}
