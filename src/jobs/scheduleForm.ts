/**
 * The Run-as-job form's Schedule tab, apart from React: its options, the time
 * zones offered, the request for `POST /schedules`, and fire times in words.
 *
 * The parameters, kernel, timeout and retries are read exactly as for a run
 * (`buildRequest`), so a value wrong for a run is wrong for a schedule with the
 * same message; what a schedule adds (cron, zone, concurrency, max active,
 * catch-up, end date) is checked here where the browser can, and by the server
 * (its 400 names the field in `param`) for the rest: the cron's own fields and
 * the zone's name.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { CatchUp, ConcurrencyPolicy, ScheduleRequest } from '../api/types';
import { buildRequest, IField, IOptions } from './form';

/** What the Schedule tab holds beside a run's fields and options. */
export interface IScheduleOptions {
  cron: string;
  /** An IANA name; the browser's by default. */
  timezone: string;
  concurrency: ConcurrencyPolicy;
  /** Typed: a whole number >= 1. */
  maxActive: string;
  catchUp: CatchUp;
  /** `YYYY-MM-DDTHH:MM` as a `datetime-local` input gives it, read in `timezone`; empty for none. */
  endAt: string;
}

/** The request field each schedule option is sent as (the server's 400 names it). */
export const SCHEDULE_PARAMS: Record<keyof IScheduleOptions, string> = {
  cron: 'cron',
  timezone: 'timezone',
  concurrency: 'concurrency',
  maxActive: 'max_active',
  catchUp: 'catch_up',
  endAt: 'end_at'
};

/** The Schedule tab of a new form: every day at 02:00 in the browser's zone. */
export function defaultScheduleOptions(): IScheduleOptions {
  return {
    cron: '0 2 * * *',
    timezone: browserTimeZone(),
    concurrency: 'skip',
    maxActive: '1',
    catchUp: 'last',
    endAt: ''
  };
}

/** The browser's IANA time zone, or UTC when it does not say. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * The zones the picker offers: the browser's list where it has one
 * (`Intl.supportedValuesOf`), with UTC and `current` always in it, sorted.
 */
export function timeZones(current: string): string[] {
  const intl = Intl as unknown as {
    supportedValuesOf?: (key: string) => string[];
  };
  let zones: string[] = [];
  try {
    zones = intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    zones = [];
  }
  return [...new Set([...zones, 'UTC', current].filter(Boolean))].sort();
}

/** What the Schedule tab would send, or the messages keyed by request field. */
export type BuiltSchedule =
  | { ok: true; request: ScheduleRequest }
  | { ok: false; errors: Record<string, string> };

const WHOLE = /^\d+$/;

/**
 * The request for `POST /schedules`, or every field's error.
 *
 * A schedule runs one execution a slot: a parameter still marked as a sweep is
 * an error on that parameter rather than being silently run with one value.
 */
export function buildScheduleRequest(
  notebook: string,
  fields: IField[],
  options: IOptions,
  schedule: IScheduleOptions,
  trans: TranslationBundle
): BuiltSchedule {
  const errors: Record<string, string> = {};
  for (const field of fields.filter(f => f.sweep)) {
    errors[field.name] = trans.__(
      '%1 is marked as a sweep: a schedule runs one execution a slot. Uncheck sweep, or create one schedule per value.',
      field.name
    );
  }
  const unswept = fields.map(f => (f.sweep ? { ...f, sweep: false } : f));
  const run = buildRequest(notebook, unswept, options, '', trans);
  if (!run.ok) {
    for (const [name, message] of Object.entries(run.errors)) {
      errors[name] ??= message;
    }
  }
  const cron = schedule.cron.trim();
  if (cron === '') {
    errors.cron = trans.__(
      'Give a cron expression: five fields (minute hour day month weekday), or six with seconds first, e.g. 0 2 * * *'
    );
  }
  const maxActive = schedule.maxActive.trim();
  if (!WHOLE.test(maxActive) || Number(maxActive) < 1) {
    errors.max_active = trans.__(
      "max active must be a whole number >= 1, got '%1'",
      schedule.maxActive
    );
  }
  if (!run.ok || Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  const request: ScheduleRequest = {
    notebook,
    cron,
    timezone: schedule.timezone || null,
    parameters: run.request.parameters ?? {},
    retries: run.request.retries ?? 0,
    timeout: run.request.timeout ?? null,
    concurrency: schedule.concurrency,
    max_active: Number(maxActive),
    catch_up: schedule.catchUp,
    end_at: schedule.endAt.trim() === '' ? null : schedule.endAt.trim()
  };
  if (run.request.kernel_name) {
    request.kernel_name = run.request.kernel_name;
  }
  return { ok: true, request };
}

/**
 * A fire time (UTC ISO, as the server sends it) in words, in `zone`; with the
 * reader's own time beside it when their zone is another.
 *
 * `Mon 24 Nov, 02:00` or `Mon 24 Nov, 02:00 (Asia/Tokyo) = Sun 23 Nov, 18:00 here`.
 */
export function fireTimeText(
  iso: string,
  zone: string,
  trans: TranslationBundle,
  localZone: string = browserTimeZone()
): string {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) {
    return iso;
  }
  const inZone = formatIn(moment, zone);
  if (!zone || zone === localZone) {
    return inZone;
  }
  return trans.__(
    '%1 (%2) = %3 here',
    inZone,
    zone,
    formatIn(moment, localZone)
  );
}

function formatIn(moment: Date, zone: string): string {
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: moment.getUTCSeconds() !== 0 ? '2-digit' : undefined,
    hourCycle: 'h23'
  };
  try {
    return moment.toLocaleString(undefined, { ...options, timeZone: zone });
  } catch {
    // An unknown zone (the server will name it): the reader's own time.
    return moment.toLocaleString(undefined, options);
  }
}
