/**
 * The Jobs section's schedules: the list, refreshed by polling, the executions
 * and slots of the ones opened, and pause, resume and delete.
 *
 * It polls `GET /schedules` as the executions list polls: every second while a
 * schedule's last execution (or one listed under an opened schedule) is QUEUED
 * or RUNNING, else just after the soonest next fire time when that comes before
 * the idle delay (so "next run" and "last result" move when the slot fires),
 * else every 10 s; nothing while the sidebar is hidden.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import type { Execution, Schedule, Slot } from '../api/types';
import type { IJobsAPI } from './client';
import { ACTIVE_DELAY, IDLE_DELAY, isActive } from './model';
import type { ISchedulesAPI } from './scheduleClient';

/** How many executions and slots an opened schedule lists. */
export const DETAILS_SIZE = 10;

/** What an opened schedule shows under its row. */
export interface IScheduleDetails {
  executions: Execution[];
  slots: Slot[];
  loaded: boolean;
  error: string | null;
}

export interface ISchedulesState {
  schedules: Schedule[];
  loaded: boolean;
  /** The last refresh's or action's error message, or null. */
  error: string | null;
  /** The opened schedules, by id. */
  details: Record<string, IScheduleDetails>;
  /** Ids whose pause, resume or delete is on its way. */
  busy: string[];
}

export class SchedulesModel {
  constructor(options: {
    api: ISchedulesAPI;
    jobsApi: IJobsAPI;
    trans: TranslationBundle;
    /** Whether the section can be seen; no polling while it cannot. */
    isVisible?: () => boolean;
    /** Called when a schedule fired a new execution (the executions list refreshes). */
    onFired?: () => void;
    /** The clock, for the tests. */
    now?: () => number;
  }) {
    this._api = options.api;
    this._jobsApi = options.jobsApi;
    this._trans = options.trans;
    this._isVisible = options.isVisible ?? (() => true);
    this._onFired = options.onFired;
    this._now = options.now ?? (() => Date.now());
  }

  get state(): ISchedulesState {
    return this._state;
  }

  get stateChanged(): ISignal<this, ISchedulesState> {
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
    const { schedules, details } = this._state;
    const running =
      schedules.some(s => s.last_execution && isActive(s.last_execution)) ||
      Object.values(details).some(d => d.executions.some(isActive));
    if (running) {
      return ACTIVE_DELAY;
    }
    const now = this._now();
    const soonest = Math.min(
      ...schedules
        .filter(s => s.state === 'ACTIVE')
        .flatMap(s => s.next_fire_times ?? [])
        .map(time => Date.parse(time))
        .filter(time => Number.isFinite(time))
    );
    // A moment after the slot: the scheduler needs it to claim and queue it.
    const untilFired = soonest - now + ACTIVE_DELAY;
    return Math.max(ACTIVE_DELAY, Math.min(IDLE_DELAY, untilFired));
  }

  /** Fetch the list (and the opened schedules' details) now, then schedule the next poll. */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._clearTimer();
    if (this._isVisible()) {
      try {
        const { schedules } = await this._api.schedules();
        const fired = this._state.loaded && this._newExecution(schedules);
        this._set({ schedules, loaded: true, error: null });
        if (fired) {
          this._onFired?.();
        }
      } catch (reason) {
        this._set({ loaded: true, error: messageOf(reason) });
      }
      await Promise.all(
        Object.keys(this._state.details).map(id => this._readDetails(id))
      );
    }
    if (!this._disposed && this._started) {
      this._timer = setTimeout(() => void this.refresh(), this.nextDelay());
    }
  }

  /** Put a schedule just created at the top at once, and poll from now. */
  add(schedule: Schedule): void {
    this._set({
      schedules: [
        schedule,
        ...this._state.schedules.filter(s => s.id !== schedule.id)
      ]
    });
    void this.refresh();
  }

  async pause(id: string): Promise<void> {
    await this._busyWhile(id, async () => {
      this._replace(await this._api.pause(id));
    });
  }

  async resume(id: string): Promise<void> {
    await this._busyWhile(id, async () => {
      this._replace(await this._api.resume(id));
    });
  }

  /** Delete it on the server, then from the list; its executions stay. */
  async remove(id: string): Promise<void> {
    await this._busyWhile(id, async () => {
      await this._api.remove(id);
      const details = { ...this._state.details };
      delete details[id];
      this._set({
        schedules: this._state.schedules.filter(s => s.id !== id),
        details
      });
    });
  }

  /** Open a schedule (its executions and slots, followed while open) or close it. */
  async toggle(id: string): Promise<void> {
    const details = { ...this._state.details };
    if (details[id]) {
      delete details[id];
      this._set({ details });
      return;
    }
    details[id] = { executions: [], slots: [], loaded: false, error: null };
    this._set({ details });
    await this._readDetails(id);
  }

  dispose(): void {
    this._disposed = true;
    this._clearTimer();
    Signal.clearData(this);
  }

  /** Whether a listed schedule's last execution is one not seen before. */
  private _newExecution(schedules: Schedule[]): boolean {
    const before = new Map(
      this._state.schedules.map(s => [s.id, s.last_execution?.id ?? null])
    );
    return schedules.some(
      s =>
        s.last_execution !== null &&
        s.last_execution !== undefined &&
        before.get(s.id) !== s.last_execution.id
    );
  }

  private async _readDetails(id: string): Promise<void> {
    let change: Partial<IScheduleDetails>;
    try {
      const [page, slots] = await Promise.all([
        this._jobsApi.executions({ scheduleId: id, maxResults: DETAILS_SIZE }),
        this._api.slots(id, DETAILS_SIZE)
      ]);
      change = {
        executions: page.executions,
        slots: slots.slots,
        loaded: true,
        error: null
      };
    } catch (reason) {
      change = { loaded: true, error: messageOf(reason) };
    }
    const current = this._state.details[id];
    if (!current) {
      return; // closed meanwhile
    }
    this._set({
      details: { ...this._state.details, [id]: { ...current, ...change } }
    });
  }

  private _replace(schedule: Schedule): void {
    this._set({
      schedules: this._state.schedules.map(s =>
        s.id === schedule.id ? schedule : s
      )
    });
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

  private _set(change: Partial<ISchedulesState>): void {
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

  private readonly _api: ISchedulesAPI;
  private readonly _jobsApi: IJobsAPI;
  private readonly _trans: TranslationBundle;
  private readonly _isVisible: () => boolean;
  private readonly _onFired: (() => void) | undefined;
  private readonly _now: () => number;
  private _state: ISchedulesState = {
    schedules: [],
    loaded: false,
    error: null,
    details: {},
    busy: []
  };
  private readonly _stateChanged = new Signal<this, ISchedulesState>(this);
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _started = false;
  private _disposed = false;
}

function messageOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
