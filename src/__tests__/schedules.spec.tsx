/**
 * Schedules in the sidebar: the Run-as-job form's Schedule tab (the cron read by
 * the server as it is typed, its 400 under the field it names, the request it
 * sends) and the Jobs section's schedules (state, next run, last result, the
 * problem flag, pause / resume / delete on their routes, an opened schedule's
 * executions and slots, and the polling that follows them).
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import React from 'react';
import { act } from 'react';

import type { Schedule } from '../api/types';
import { RunAsJob } from '../components/RunAsJob';
import { PREVIEW_DELAY } from '../components/ScheduleFields';
import { SchedulesList } from '../components/SchedulesList';
import { ACTIVE_DELAY, IDLE_DELAY } from '../jobs/model';
import { SchedulesModel } from '../jobs/scheduleModel';
import { FakeJobsApi, makeExecution } from './fakeJobs';
import { FakeSchedulesApi } from './fakeSchedules';
import {
  cronPreviewAnswer,
  makeSchedule,
  pausedScheduleAnswer,
  problemSchedulesAnswer,
  recorded,
  recordedError
} from './recorded';
import { render, sleep, type, waitFor } from './view';

const trans = nullTranslator.load('mlops_lab');

function serverMessage(name: Parameters<typeof recorded>[0]): string {
  return (recorded(name).body as { message: string }).message;
}

describe('RunAsJob, Schedule tab', () => {
  let widget: Widget | null = null;
  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  const node = (): HTMLElement => widget!.node;
  const query = <T extends Element = HTMLElement>(selector: string): T | null =>
    node().querySelector<T>(selector);

  /** The form for `train.ipynb`, its parameters read; a Schedule tab with `schedulesApi`. */
  async function mountRunAsJob(
    schedulesApi?: FakeSchedulesApi,
    scheduled: Schedule[] = []
  ): Promise<void> {
    widget = render(
      <RunAsJob
        notebook="train.ipynb"
        api={new FakeJobsApi()}
        trans={trans}
        save={async () => undefined}
        onSubmitted={() => undefined}
        schedulesApi={schedulesApi}
        onScheduled={schedule => scheduled.push(schedule)}
      />
    );
    await waitFor(() => query('[name="alpha"]') !== null);
  }

  /** The form on its Schedule tab. */
  async function mountForm(
    schedulesApi: FakeSchedulesApi,
    scheduled: Schedule[] = []
  ): Promise<void> {
    await mountRunAsJob(schedulesApi, scheduled);
    const tab = query<HTMLButtonElement>('[data-mode="schedule"]')!;
    await act(async () => tab.click());
    await waitFor(() => query('[name="cron"]') !== null);
  }

  it('has no Schedule tab without the schedules API', async () => {
    await mountRunAsJob();
    expect(query('[role="tablist"]')).toBeNull();
  });

  it('reads the cron once typing stops and shows it in words with its next runs', async () => {
    const api = new FakeSchedulesApi();
    await mountForm(api);
    await act(async () => type(node(), 'timezone', 'Europe/Paris'));
    // Keystrokes closer together than the delay: only the last one is read.
    for (const text of ['30', '30 2', '30 2 * * 1']) {
      await act(async () => type(node(), 'cron', text));
      await act(() => sleep(PREVIEW_DELAY / 3));
    }
    await act(() => sleep(PREVIEW_DELAY + 100));
    await waitFor(() => query('.jp-MlopsLab-cronDescription') !== null);
    // One request for the last text, none for the keystrokes before it.
    expect(
      api.calls.filter(c => c.startsWith('GET schedules/preview'))
    ).toEqual(['GET schedules/preview 30 2 * * 1 Europe/Paris']);
    expect(query('.jp-MlopsLab-cronDescription')!.textContent).toBe(
      'At 02:30, only on Monday'
    );
    expect(node().querySelectorAll('.jp-MlopsLab-cronNext li').length).toBe(3);
    expect(query('.jp-MlopsLab-cronNext')!.textContent).toContain(
      '(Europe/Paris)'
    );
    expect(query('[data-param="cron"] .jp-MlopsLab-fieldError')).toBeNull();
  });

  it('drops an answer that comes back after a newer expression was typed', async () => {
    const api = new FakeSchedulesApi();
    let release = (): void => undefined;
    api.onPreview = async cron =>
      cron === '0 1 * * *'
        ? new Promise(resolve => {
            release = () =>
              resolve({ ...cronPreviewAnswer(), description: 'At 01:00' });
          })
        : cronPreviewAnswer();
    await mountForm(api);
    await act(async () => type(node(), 'cron', '0 1 * * *'));
    await act(() => sleep(PREVIEW_DELAY + 100));
    await act(async () => type(node(), 'cron', '30 2 * * 1'));
    await act(() => sleep(PREVIEW_DELAY + 100));
    const description = () =>
      query('.jp-MlopsLab-cronDescription')?.textContent;
    await waitFor(() => description() === 'At 02:30, only on Monday');
    await act(async () => release());
    await act(() => sleep(50));
    expect(description()).toBe('At 02:30, only on Monday');
    expect(
      api.calls.filter(c => c.startsWith('GET schedules/preview')).length
    ).toBe(2);
  });

  it('shows the server 400 under the field it names: the cron, or the zone', async () => {
    const api = new FakeSchedulesApi();
    api.onPreview = async () => {
      throw recordedError('schedule_preview_bad_cron');
    };
    await mountForm(api);
    await act(async () => type(node(), 'cron', '0 25 * * *'));
    await act(() => sleep(PREVIEW_DELAY + 100));
    const cronError = () =>
      query('[data-param="cron"] .jp-MlopsLab-fieldError');
    await waitFor(() => cronError() !== null);
    expect(cronError()!.textContent).toBe(
      serverMessage('schedule_preview_bad_cron')
    );
    expect(query('.jp-MlopsLab-cronDescription')).toBeNull();

    api.onPreview = async () => {
      throw recordedError('schedule_preview_bad_timezone');
    };
    await act(async () => type(node(), 'cron', '0 2 * * *'));
    await act(() => sleep(PREVIEW_DELAY + 100));
    const zoneError = () =>
      query('[data-param="timezone"] .jp-MlopsLab-fieldError');
    await waitFor(() => zoneError() !== null);
    expect(zoneError()!.textContent).toContain(
      "Unknown time zone 'Mars/Olympus'"
    );
    expect(cronError()).toBeNull();
  });

  it('saves nothing and sends nothing while a parameter is marked as a sweep', async () => {
    const api = new FakeSchedulesApi();
    await mountForm(api);
    // The sweep box is hidden on this tab unless a field is already swept.
    expect(query('[name="alpha-sweep"]')).toBeNull();
    await act(async () =>
      query<HTMLButtonElement>('[data-mode="run"]')!.click()
    );
    await act(async () =>
      query<HTMLInputElement>('[name="alpha-sweep"]')!.click()
    );
    await act(async () =>
      query<HTMLButtonElement>('[data-mode="schedule"]')!.click()
    );
    expect(query('[name="alpha-sweep"]')).not.toBeNull();
    await act(async () =>
      query<HTMLButtonElement>('.jp-MlopsLab-jobSubmit')!.click()
    );
    expect(
      query('[data-param="alpha"] .jp-MlopsLab-fieldError')!.textContent
    ).toContain('a schedule runs one execution a slot');
    expect(api.created).toEqual([]);
  });

  it('creates the schedule it shows, and puts a server 400 beside its field', async () => {
    const api = new FakeSchedulesApi();
    const scheduled: Schedule[] = [];
    api.onCreate = async () => {
      throw recordedError('schedule_create_bad_max_active');
    };
    await mountForm(api, scheduled);
    await act(async () => {
      type(node(), 'cron', '30 2 * * 1');
      type(node(), 'timezone', 'Europe/Paris');
      type(node(), 'alpha', '2.5');
      type(node(), 'concurrency', 'queue');
      type(node(), 'catch_up', 'none');
      type(node(), 'end_at', '2027-01-31T23:00');
    });
    const submit = query<HTMLButtonElement>('.jp-MlopsLab-jobSubmit')!;
    expect(submit.textContent).toBe('Create schedule');
    await act(async () => {
      submit.click();
      submit.click();
    });
    await waitFor(
      () => query('[data-param="max_active"] .jp-MlopsLab-fieldError') !== null
    );
    expect(api.calls.filter(c => c === 'POST schedules')).toEqual([
      'POST schedules'
    ]);
    expect(api.created[0]).toEqual({
      notebook: 'train.ipynb',
      cron: '30 2 * * 1',
      timezone: 'Europe/Paris',
      parameters: { alpha: 2.5 },
      kernel_name: 'python3',
      timeout: null,
      retries: 0,
      concurrency: 'queue',
      max_active: 1,
      catch_up: 'none',
      end_at: '2027-01-31T23:00'
    });
    expect(
      query('[data-param="max_active"] .jp-MlopsLab-fieldError')!.textContent
    ).toBe(serverMessage('schedule_create_bad_max_active'));
    expect(scheduled).toEqual([]);

    api.onCreate = async () => makeSchedule();
    await act(async () => type(node(), 'max_active', '1'));
    await act(async () => submit.click());
    await waitFor(() => scheduled.length === 1);
    expect(query('.jp-MlopsLab-jobFormDone')!.textContent).toContain(
      'At 02:30, only on Monday (Europe/Paris)'
    );
  });
});

describe('SchedulesModel', () => {
  const now = Date.UTC(2026, 10, 24, 1, 0);

  function model(
    api: FakeSchedulesApi,
    jobsApi = new FakeJobsApi(),
    onFired?: () => void
  ): SchedulesModel {
    return new SchedulesModel({ api, jobsApi, trans, onFired, now: () => now });
  }

  it('polls fast while a schedule execution runs', async () => {
    const api = new FakeSchedulesApi();
    api.onSchedules = async () => ({
      schedules: [
        makeSchedule({ last_execution: makeExecution({ state: 'RUNNING' }) })
      ]
    });
    const schedules = model(api);
    await schedules.refresh();
    expect(schedules.nextDelay()).toBe(ACTIVE_DELAY);
    schedules.dispose();
  });

  it('polls just after the soonest next run when it comes before the idle poll', async () => {
    const api = new FakeSchedulesApi();
    const inFourSeconds = new Date(now + 4000).toISOString();
    api.onSchedules = async () => ({
      schedules: [
        makeSchedule({ next_fire_times: [inFourSeconds] }),
        makeSchedule({ id: 'far', next_fire_times: ['2027-01-01T00:00:00Z'] })
      ]
    });
    const schedules = model(api);
    await schedules.refresh();
    expect(schedules.nextDelay()).toBe(4000 + ACTIVE_DELAY);
    // A paused schedule's slots do not fire: the idle delay.
    api.onSchedules = async () => ({
      schedules: [
        { ...pausedScheduleAnswer(), next_fire_times: [inFourSeconds] }
      ]
    });
    await schedules.refresh();
    expect(schedules.nextDelay()).toBe(IDLE_DELAY);
    schedules.dispose();
  });

  it('tells the executions list when a schedule fired a new execution', async () => {
    const api = new FakeSchedulesApi();
    let fired = 0;
    const schedules = model(api, new FakeJobsApi(), () => fired++);
    api.onSchedules = async () => ({
      schedules: [makeSchedule({ last_execution: makeExecution({ id: 'e1' }) })]
    });
    await schedules.refresh();
    await schedules.refresh();
    expect(fired).toBe(0);
    api.onSchedules = async () => ({
      schedules: [makeSchedule({ last_execution: makeExecution({ id: 'e2' }) })]
    });
    await schedules.refresh();
    expect(fired).toBe(1);
    schedules.dispose();
  });

  it('does not ask the server while the sidebar is hidden', async () => {
    const api = new FakeSchedulesApi();
    const schedules = new SchedulesModel({
      api,
      jobsApi: new FakeJobsApi(),
      trans,
      isVisible: () => false
    });
    await schedules.refresh();
    expect(api.calls).toEqual([]);
    schedules.dispose();
  });
});

describe('SchedulesList', () => {
  let widget: Widget | null = null;
  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  const item = (id: string): HTMLElement | null =>
    widget!.node.querySelector(`[data-schedule-id="${id}"]`);

  function button(id: string, name: string): HTMLButtonElement {
    return item(id)!.querySelector(
      `.jp-MlopsLab-schedule${name}`
    ) as HTMLButtonElement;
  }

  async function mountList(
    api: FakeSchedulesApi,
    options: {
      jobsApi?: FakeJobsApi;
      confirm?: (schedule: Schedule) => Promise<boolean>;
    } = {}
  ): Promise<SchedulesModel> {
    const model = new SchedulesModel({
      api,
      jobsApi: options.jobsApi ?? new FakeJobsApi(),
      trans
    });
    widget = render(
      <SchedulesList
        model={model}
        trans={trans}
        confirmDelete={options.confirm ?? (async () => true)}
      />
    );
    await act(() => model.refresh());
    return model;
  }

  it('shows state, cron in words and zone, next run and last result', async () => {
    const api = new FakeSchedulesApi();
    api.onSchedules = async () => ({
      schedules: [
        makeSchedule({
          id: 'a',
          last_execution: makeExecution({ state: 'FAILED' })
        }),
        { ...pausedScheduleAnswer(), id: 'b' }
      ]
    });
    const model = await mountList(api);
    await waitFor(() => item('a') !== null && item('b') !== null);
    expect(item('a')!.dataset.state).toBe('ACTIVE');
    expect(
      item('a')!.querySelector('.jp-MlopsLab-scheduleCron')!.textContent
    ).toBe('At 02:30, only on Monday (Europe/Paris)');
    expect(
      item('a')!.querySelector('.jp-MlopsLab-scheduleNext')!.textContent
    ).toMatch(/^Next: /);
    expect(
      item('a')!.querySelector('.jp-MlopsLab-scheduleLast')!.textContent
    ).toBe('Last: FAILED');
    expect(item('a')!.querySelector('.jp-MlopsLab-scheduleResume')).toBeNull();
    // Paused: no next run, a resume rather than a pause, never run.
    expect(item('b')!.dataset.state).toBe('PAUSED');
    expect(
      item('b')!.querySelector('.jp-MlopsLab-scheduleNext')!.textContent
    ).toBe('Next: none while PAUSED');
    expect(item('b')!.querySelector('.jp-MlopsLab-schedulePause')).toBeNull();
    expect(
      item('b')!.querySelector('.jp-MlopsLab-scheduleLast')!.textContent
    ).toBe('Not run yet');
    expect(
      widget!.node.querySelector('.jp-MlopsLab-scheduleProblem')
    ).toBeNull();
    model.dispose();
  });

  it('takes no room while there is no schedule, and shows one once made', async () => {
    const api = new FakeSchedulesApi();
    const model = await mountList(api);
    expect(widget!.node.querySelector('.jp-MlopsLab-schedules')).toBeNull();
    const made = makeSchedule({ id: 'new' });
    api.onSchedules = async () => ({ schedules: [made] });
    await act(async () => model.add(made));
    await waitFor(() => item('new') !== null);
    expect(api.calls).toContain('GET schedules');
    model.dispose();
  });

  it('flags a schedule whose notebook is gone, with the server text as title', async () => {
    const api = new FakeSchedulesApi();
    const answer = problemSchedulesAnswer();
    api.onSchedules = async () => answer;
    const model = await mountList(api);
    const flag = (): HTMLElement | null =>
      widget!.node.querySelector('.jp-MlopsLab-scheduleProblem');
    await waitFor(() => flag() !== null);
    expect(flag()!.title).toBe(answer.schedules[0].problem);
    expect(flag()!.title).toContain('train.ipynb no longer exists');
    model.dispose();
  });

  it('pauses, resumes and deletes on their routes; delete asks first', async () => {
    const api = new FakeSchedulesApi();
    api.onSchedules = async () => ({ schedules: [makeSchedule({ id: 'a' })] });
    const asked: string[] = [];
    let answer = false;
    const model = await mountList(api, {
      confirm: async schedule => {
        asked.push(schedule.id);
        return answer;
      }
    });
    await waitFor(() => item('a') !== null);

    await act(async () => button('a', 'Pause').click());
    await waitFor(() => item('a')!.dataset.state === 'PAUSED');
    await act(async () => button('a', 'Resume').click());
    await waitFor(() => item('a')!.dataset.state === 'ACTIVE');

    await act(async () => button('a', 'Delete').click());
    await waitFor(() => asked.length === 1);
    expect(item('a')).not.toBeNull();
    answer = true;
    await act(async () => button('a', 'Delete').click());
    await waitFor(() => item('a') === null);
    expect(api.calls.filter(c => c !== 'GET schedules')).toEqual([
      'POST schedules/a/pause',
      'POST schedules/a/resume',
      'DELETE schedules/a'
    ]);
    expect(asked).toEqual(['a', 'a']);
    model.dispose();
  });

  it('shows the server error of an action and keeps the schedule', async () => {
    const api = new FakeSchedulesApi();
    api.onSchedules = async () => ({ schedules: [makeSchedule({ id: 'a' })] });
    api.onPause = async () => {
      throw new Error('No schedule a.');
    };
    const model = await mountList(api);
    await waitFor(() => item('a') !== null);
    await act(async () => button('a', 'Pause').click());
    await waitFor(
      () => widget!.node.querySelector('.jp-MlopsLab-jobsError') !== null
    );
    expect(
      widget!.node.querySelector('.jp-MlopsLab-jobsError')!.textContent
    ).toBe('a: No schedule a.');
    expect(item('a')!.dataset.state).toBe('ACTIVE');
    model.dispose();
  });

  it('opens a schedule on its executions and its slots with their reasons', async () => {
    const api = new FakeSchedulesApi();
    const jobsApi = new FakeJobsApi();
    api.onSchedules = async () => ({ schedules: [makeSchedule({ id: 'a' })] });
    jobsApi.onExecutions = async query => ({
      executions:
        query?.scheduleId === 'a'
          ? [makeExecution({ id: 'x1', state: 'RUNNING' })]
          : [],
      next_page_token: null
    });
    api.onSlots = async () => ({
      slots: [
        {
          slot_at: '2026-11-24T01:31:00Z',
          fired_at: '2026-11-24T01:31:00Z',
          outcome: 'skipped',
          reason: '1 execution still queued or running (max_active 1)',
          execution_id: null
        },
        {
          slot_at: '2026-11-24T01:30:00Z',
          fired_at: '2026-11-24T01:30:00Z',
          outcome: 'fired',
          reason: null,
          execution_id: 'x1'
        }
      ]
    });
    const model = await mountList(api, { jobsApi });
    await waitFor(() => item('a') !== null);
    await act(async () => button('a', 'Toggle').click());
    await waitFor(
      () => item('a')!.querySelector('.jp-MlopsLab-scheduleExecution') !== null
    );
    expect(jobsApi.calls).toContain('executions schedule=a');
    expect(api.calls).toContain('GET schedules/a/slots');
    const execution = item('a')!.querySelector(
      '.jp-MlopsLab-scheduleExecution'
    ) as HTMLElement;
    expect(execution.dataset.executionId).toBe('x1');
    expect(execution.dataset.state).toBe('RUNNING');
    const slots = item('a')!.querySelectorAll('.jp-MlopsLab-scheduleSlot');
    expect(
      Array.from(slots).map(s => (s as HTMLElement).dataset.outcome)
    ).toEqual(['skipped', 'fired']);
    expect(slots[0].textContent).toContain('still queued or running');
    // An opened schedule's running execution keeps the poll fast.
    expect(model.nextDelay()).toBe(ACTIVE_DELAY);
    await act(async () => button('a', 'Toggle').click());
    expect(item('a')!.querySelector('.jp-MlopsLab-scheduleDetails')).toBeNull();
    model.dispose();
  });
});
