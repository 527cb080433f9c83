/**
 * The Schedule tab's logic against the server's recorded parameters: the
 * request for `POST /schedules` (the run's fields read as for a run), what is
 * refused before anything is sent, the zones offered and fire times in words.
 */
import { nullTranslator } from '@jupyterlab/translation';

import { DEFAULT_OPTIONS } from '../jobs/form';
import {
  buildScheduleRequest,
  defaultScheduleOptions,
  fireTimeText,
  IScheduleOptions,
  timeZones
} from '../jobs/scheduleForm';
import { edit, fields } from './formFields';
import { recorded } from './recorded';

const trans = nullTranslator.load('mlops_lab');

const WEEKLY: IScheduleOptions = {
  ...defaultScheduleOptions(),
  cron: ' 30 2 * * 1 ',
  timezone: 'Europe/Paris'
};

describe('buildScheduleRequest', () => {
  it('sends the changed parameters, the run options and the schedule', () => {
    const built = buildScheduleRequest(
      'train.ipynb',
      edit(fields(), 'alpha', { text: '2.5' }),
      {
        ...DEFAULT_OPTIONS,
        kernelName: 'python3',
        timeout: '60',
        retries: '1'
      },
      {
        ...WEEKLY,
        concurrency: 'queue',
        maxActive: '2',
        catchUp: 'all',
        endAt: '2027-01-31T23:00'
      },
      trans
    );
    expect(built).toEqual({
      ok: true,
      request: {
        notebook: 'train.ipynb',
        cron: '30 2 * * 1',
        timezone: 'Europe/Paris',
        parameters: { alpha: 2.5 },
        kernel_name: 'python3',
        timeout: 60,
        retries: 1,
        concurrency: 'queue',
        max_active: 2,
        catch_up: 'all',
        end_at: '2027-01-31T23:00'
      }
    });
  });

  it('has the defaults the server has, and no end date unless given', () => {
    const built = buildScheduleRequest(
      'train.ipynb',
      fields(),
      DEFAULT_OPTIONS,
      WEEKLY,
      trans
    );
    expect(built.ok && built.request).toMatchObject({
      parameters: {},
      concurrency: 'skip',
      max_active: 1,
      catch_up: 'last',
      end_at: null,
      timeout: null,
      retries: 0
    });
  });

  it('refuses a swept parameter, a wrong type, an empty cron and max active 0', () => {
    let form = edit(fields(), 'alpha', { sweep: true, text: '0.1, 0.5' });
    form = edit(form, 'epochs', { text: 'three' });
    const built = buildScheduleRequest(
      'train.ipynb',
      form,
      { ...DEFAULT_OPTIONS, timeout: '-1' },
      { ...WEEKLY, cron: '  ', maxActive: '0' },
      trans
    );
    if (built.ok) {
      throw new Error('built a request from wrong fields');
    }
    expect(Object.keys(built.errors).sort()).toEqual([
      'alpha',
      'cron',
      'epochs',
      'max_active',
      'timeout'
    ]);
    expect(built.errors.alpha).toContain(
      'a schedule runs one execution a slot'
    );
    expect(built.errors.epochs).toBe("epochs expects int, got 'three'");
  });

  it('refuses the max active the server refuses (recorded 400)', () => {
    const server = recorded('schedule_create_bad_max_active').body as {
      param: string;
    };
    const built = buildScheduleRequest(
      'train.ipynb',
      fields(),
      DEFAULT_OPTIONS,
      { ...WEEKLY, maxActive: '0' },
      trans
    );
    expect(built.ok ? [] : Object.keys(built.errors)).toEqual([server.param]);
  });
});

describe('timeZones', () => {
  it('offers UTC and the current zone, sorted, once each', () => {
    const zones = timeZones('Etc/Unlisted');
    expect(zones).toContain('UTC');
    expect(zones).toContain('Etc/Unlisted');
    expect(new Set(zones).size).toBe(zones.length);
    expect([...zones].sort()).toEqual(zones);
  });
});

describe('fireTimeText', () => {
  const slot = '2026-11-24T01:30:00Z';

  it('shows a time in the schedule zone, and the reader time beside it', () => {
    const text = fireTimeText(slot, 'Europe/Paris', trans, 'Asia/Tokyo');
    expect(text).toMatch(/02:30 \(Europe\/Paris\) = .*10:30 here$/);
  });

  it('shows one time when both zones are the same', () => {
    expect(fireTimeText(slot, 'UTC', trans, 'UTC')).toMatch(/01:30$/);
  });

  it('shows the seconds of an every-second slot', () => {
    expect(fireTimeText('2026-11-24T01:30:07Z', 'UTC', trans, 'UTC')).toMatch(
      /01:30:07$/
    );
  });
});
