/**
 * The schedules' REST calls: preview a cron as it is typed, create, list, pause,
 * resume and delete schedules, and read what happened at their slots.
 *
 * An interface of its own beside `IJobsAPI`, so the jobs' client (and its fakes
 * in the tests) does not grow with schedules; a schedule's executions are read
 * with `IJobsAPI.executions({ scheduleId })`.
 */
import { JSONClient } from '../request';
import type {
  CronPreview,
  DeletedSchedule,
  Schedule,
  ScheduleList,
  ScheduleRequest,
  SlotList
} from '../api/types';

/**
 * The schedules' part of the mlops-lab REST API.
 *
 * Every method rejects with an `MlopsLabResponseError` carrying the server's
 * message, code and `param`, or with a `ServerConnection.NetworkError`.
 */
export interface ISchedulesAPI {
  /**
   * A cron expression in words and its next three fire times (UTC).
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` whose `param` is `cron` (the
   *   message names the wrong field) or `timezone`
   */
  preview(cron: string, timezone?: string): Promise<CronPreview>;

  /** Every schedule, the newest first. */
  schedules(): Promise<ScheduleList>;

  /**
   * Create a schedule.
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` whose `param` names the field
   *   (`cron`, `timezone`, `end_at`, `max_active`, a parameter's name...);
   *   404 `NOT_FOUND` for a missing notebook
   */
  create(request: ScheduleRequest): Promise<Schedule>;

  /** No slot fires until it is resumed. */
  pause(id: string): Promise<Schedule>;

  /** Fire again from the next slot (the slots passed while paused do not fire). */
  resume(id: string): Promise<Schedule>;

  /** Stop firing and forget it; its executions stay. */
  remove(id: string): Promise<DeletedSchedule>;

  /** Its newest slots, the newest first: fired, skipped or missed. */
  slots(id: string, maxResults?: number): Promise<SlotList>;
}

/** Calls `/mlops-lab/api/schedules` on JupyterLab's server. */
export class SchedulesClient extends JSONClient implements ISchedulesAPI {
  preview(cron: string, timezone?: string): Promise<CronPreview> {
    const search = new URLSearchParams({ cron });
    if (timezone) {
      search.set('timezone', timezone);
    }
    return this.call(`schedules/preview?${search.toString()}`);
  }

  schedules(): Promise<ScheduleList> {
    return this.call('schedules');
  }

  create(request: ScheduleRequest): Promise<Schedule> {
    return this.call('schedules', 'POST', request);
  }

  pause(id: string): Promise<Schedule> {
    return this.call(`schedules/${encodeURIComponent(id)}/pause`, 'POST', {});
  }

  resume(id: string): Promise<Schedule> {
    return this.call(`schedules/${encodeURIComponent(id)}/resume`, 'POST', {});
  }

  remove(id: string): Promise<DeletedSchedule> {
    return this.call(`schedules/${encodeURIComponent(id)}`, 'DELETE');
  }

  slots(id: string, maxResults?: number): Promise<SlotList> {
    const query = maxResults ? `?max_results=${maxResults}` : '';
    return this.call(`schedules/${encodeURIComponent(id)}/slots${query}`);
  }
}
