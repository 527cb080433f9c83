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

import type { Execution, Schedule, Slot } from '../api/types';
import { messageOf } from '../request';
import type { IJobsAPI } from './client';
import { ACTIVE_DELAY, IDLE_DELAY, isActive } from './model';
import { IPolledState, PolledModel } from './polledModel';
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

/** The schedules listed; `busy` holds the ids whose pause, resume or delete is on its way. */
export interface ISchedulesState extends IPolledState {
  schedules: Schedule[];
  loaded: boolean;
  /** The opened schedules, by id. */
  details: Record<string, IScheduleDetails>;
}

export class SchedulesModel extends PolledModel<ISchedulesState> {
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
    super({
      initial: {
        schedules: [],
        loaded: false,
        error: null,
        details: {},
        busy: []
      },
      trans: options.trans,
      isVisible: options.isVisible
    });
    this._api = options.api;
    this._jobsApi = options.jobsApi;
    this._onFired = options.onFired;
    this._now = options.now ?? (() => Date.now());
  }

  /** The delay before the next poll given what is listed. */
  nextDelay(): number {
    const { schedules, details } = this.state;
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

  /** Fetch the list, then the opened schedules' executions and slots. */
  protected async read(): Promise<void> {
    try {
      const { schedules } = await this._api.schedules();
      const fired = this.state.loaded && this._newExecution(schedules);
      this.setState({ schedules, loaded: true, error: null });
      if (fired) {
        this._onFired?.();
      }
    } catch (reason) {
      this.setState({ loaded: true, error: messageOf(reason) });
    }
    await Promise.all(
      Object.keys(this.state.details).map(id => this._readDetails(id))
    );
  }

  /** Put a schedule just created at the top at once, and poll from now. */
  add(schedule: Schedule): void {
    this.setState({
      schedules: [
        schedule,
        ...this.state.schedules.filter(s => s.id !== schedule.id)
      ]
    });
    void this.refresh();
  }

  async pause(id: string): Promise<void> {
    await this.busyWhile(id, async () => {
      this._replace(await this._api.pause(id));
    });
  }

  async resume(id: string): Promise<void> {
    await this.busyWhile(id, async () => {
      this._replace(await this._api.resume(id));
    });
  }

  /** Delete it on the server, then from the list; its executions stay. */
  async remove(id: string): Promise<void> {
    await this.busyWhile(id, async () => {
      await this._api.remove(id);
      const details = { ...this.state.details };
      delete details[id];
      this.setState({
        schedules: this.state.schedules.filter(s => s.id !== id),
        details
      });
    });
  }

  /** Open a schedule (its executions and slots, followed while open) or close it. */
  async toggle(id: string): Promise<void> {
    const details = { ...this.state.details };
    if (details[id]) {
      delete details[id];
      this.setState({ details });
      return;
    }
    details[id] = { executions: [], slots: [], loaded: false, error: null };
    this.setState({ details });
    await this._readDetails(id);
  }

  /** Whether a listed schedule's last execution is one not seen before. */
  private _newExecution(schedules: Schedule[]): boolean {
    const before = new Map(
      this.state.schedules.map(s => [s.id, s.last_execution?.id ?? null])
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
    const current = this.state.details[id];
    if (!current) {
      return; // closed meanwhile
    }
    this.setState({
      details: { ...this.state.details, [id]: { ...current, ...change } }
    });
  }

  private _replace(schedule: Schedule): void {
    this.setState({
      schedules: this.state.schedules.map(s =>
        s.id === schedule.id ? schedule : s
      )
    });
  }

  private readonly _api: ISchedulesAPI;
  private readonly _jobsApi: IJobsAPI;
  private readonly _onFired: (() => void) | undefined;
  private readonly _now: () => number;
}
