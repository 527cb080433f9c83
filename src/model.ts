/**
 * The state behind the sidebar: the last health answer or why there is none.
 *
 * Kept outside React so the widget, the command and the poll can all ask for a
 * refresh, and React components only listen to `stateChanged`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { Health } from './api/types';
import { describeError, IProblem } from './status';
import type { IMlopsLabAPI } from './tokens';

/** What the sidebar shows about the server. */
export type HealthState =
  | { status: 'loading' }
  | { status: 'ready'; health: Health }
  | { status: 'failed'; problem: IProblem };

export interface ISidebarModelOptions {
  api: IMlopsLabAPI;
  trans: TranslationBundle;
  /**
   * Is the panel shown? While it is not, the poll stands by: a hidden panel
   * has no reason to probe three stores every minute.
   */
  isVisible?: () => boolean;
}

/**
 * Fetches `/health` on demand and, once `setRefreshInterval` is given a positive
 * number, on a `Poll` that stands by while the panel or the browser tab is hidden.
 */
export class SidebarModel implements IDisposable {
  constructor(options: ISidebarModelOptions) {
    this._api = options.api;
    this._trans = options.trans;
    const isVisible = options.isVisible ?? (() => true);
    this._poll = new Poll({
      auto: false,
      factory: () => this.refresh(),
      frequency: { interval: Poll.NEVER, max: Poll.NEVER, backoff: false },
      name: 'mlops-lab:health',
      standby: () => (isVisible() ? 'when-hidden' : true)
    });
  }

  /** The current state; starts as `loading`. */
  get state(): HealthState {
    return this._state;
  }

  /** Emitted with the new state after each change. */
  get stateChanged(): ISignal<this, HealthState> {
    return this._stateChanged;
  }

  /** The poll behind the automatic checks (exposed for the tests). */
  get poll(): Poll {
    return this._poll;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Check now and then every `seconds` seconds; 0 or less stops checking on a
   * timer. A failed check does not stop the poll: a Jupyter server that was
   * restarting is found again at the next tick.
   */
  setRefreshInterval(seconds: number): void {
    if (this._isDisposed) {
      return;
    }
    if (seconds <= 0) {
      void this._poll.stop();
      return;
    }
    const interval = Math.round(seconds * 1000);
    this._poll.frequency = { interval, max: interval, backoff: false };
    void this._poll.stop().then(() => this._poll.start());
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
      next = { status: 'failed', problem: describeError(error, this._trans) };
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
    this._poll.dispose();
    Signal.clearData(this);
  }

  private readonly _api: IMlopsLabAPI;
  private readonly _trans: TranslationBundle;
  private readonly _poll: Poll;
  private _state: HealthState = { status: 'loading' };
  private readonly _stateChanged = new Signal<this, HealthState>(this);
  private _requestCount = 0;
  private _isDisposed = false;
}
