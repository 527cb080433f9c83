/**
 * An `ISchedulesAPI` for the jest tests: scriptable per test, recording its
 * calls as the routes they stand for, answering with the server's recorded
 * answers by default.
 */
import type {
  CronPreview,
  DeletedSchedule,
  Schedule,
  ScheduleList,
  ScheduleRequest,
  SlotList
} from '../api/types';
import type { ISchedulesAPI } from '../jobs/scheduleClient';
import {
  cronPreviewAnswer,
  makeSchedule,
  pausedScheduleAnswer
} from './recorded';

export class FakeSchedulesApi implements ISchedulesAPI {
  /** `METHOD path` of each call, as the real client would send it. */
  readonly calls: string[] = [];
  readonly created: ScheduleRequest[] = [];

  onPreview: (cron: string, timezone?: string) => Promise<CronPreview> =
    async () => cronPreviewAnswer();
  onSchedules: () => Promise<ScheduleList> = async () => ({ schedules: [] });
  onCreate: (request: ScheduleRequest) => Promise<Schedule> = async () =>
    makeSchedule();
  onPause: (id: string) => Promise<Schedule> = async id => ({
    ...pausedScheduleAnswer(),
    id
  });
  onResume: (id: string) => Promise<Schedule> = async id =>
    makeSchedule({ id });
  onSlots: (id: string) => Promise<SlotList> = async () => ({ slots: [] });

  preview(cron: string, timezone?: string): Promise<CronPreview> {
    this.calls.push(`GET schedules/preview ${cron} ${timezone ?? ''}`.trim());
    return this.onPreview(cron, timezone);
  }

  schedules(): Promise<ScheduleList> {
    this.calls.push('GET schedules');
    return this.onSchedules();
  }

  create(request: ScheduleRequest): Promise<Schedule> {
    this.calls.push('POST schedules');
    this.created.push(request);
    return this.onCreate(request);
  }

  pause(id: string): Promise<Schedule> {
    this.calls.push(`POST schedules/${id}/pause`);
    return this.onPause(id);
  }

  resume(id: string): Promise<Schedule> {
    this.calls.push(`POST schedules/${id}/resume`);
    return this.onResume(id);
  }

  remove(id: string): Promise<DeletedSchedule> {
    this.calls.push(`DELETE schedules/${id}`);
    return Promise.resolve({ id });
  }

  slots(id: string): Promise<SlotList> {
    this.calls.push(`GET schedules/${id}/slots`);
    return this.onSlots(id);
  }
}
