/**
 * The Jobs section and its model: polling fast while an execution runs and slow
 * once all finished, the state and cell progress as they change (no reload), the
 * log read on from its offset, cancel and re-run; and the Run-as-job form
 * showing a wrong type inline without sending anything, then the server's 400
 * beside its field.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import React from 'react';
import { act } from 'react';

import type { Execution } from '../api/types';
import { JobsSection } from '../components/JobsSection';
import { RunAsJob } from '../components/RunAsJob';
import { ACTIVE_DELAY, IDLE_DELAY, JobsModel } from '../jobs/model';
import { FakeJobsApi, makeExecution } from './fakeJobs';
import {
  executionLogAnswer,
  executionsPageAnswer,
  recordedError
} from './recorded';
import { render, type, waitFor } from './view';

const trans = nullTranslator.load('mlops_lab');

function page(...executions: Execution[]) {
  return { executions, next_page_token: null };
}

describe('JobsModel', () => {
  it('polls every second while an execution runs, slowly once none does', async () => {
    const api = new FakeJobsApi();
    const model = new JobsModel({ api, trans });
    api.onExecutions = async () =>
      page(makeExecution({ state: 'RUNNING', cells_done: 1, cells_total: 3 }));
    await model.refresh();
    expect(model.nextDelay()).toBe(ACTIVE_DELAY);
    api.onExecutions = async () =>
      page(
        makeExecution({ state: 'SUCCEEDED', cells_done: 3, cells_total: 3 })
      );
    await model.refresh();
    expect(model.nextDelay()).toBe(IDLE_DELAY);
    model.dispose();
  });

  it('does not ask the server while the sidebar is hidden', async () => {
    const api = new FakeJobsApi();
    const model = new JobsModel({ api, trans, isVisible: () => false });
    await model.refresh();
    expect(api.calls).toEqual([]);
    model.dispose();
  });

  it('reads an open log on from its offset until complete', async () => {
    const api = new FakeJobsApi();
    const chunks = ['first line\n', 'second line\n'];
    api.onLog = async (id, offset) => {
      const text = chunks.shift() ?? '';
      return {
        execution_id: id,
        text,
        offset,
        next_offset: offset + text.length,
        complete: chunks.length === 0
      };
    };
    const model = new JobsModel({ api, trans });
    await model.toggleLog('exec0001abcd');
    await model.refresh();
    await model.refresh();
    expect(model.state.logs['exec0001abcd']).toEqual({
      text: 'first line\nsecond line\n',
      offset: 23,
      complete: true
    });
    expect(api.calls.filter(c => c.startsWith('log'))).toEqual([
      'log exec0001abcd 0',
      'log exec0001abcd 11'
    ]);
    model.dispose();
  });

  it('puts a re-run at the top and keeps one call per click', async () => {
    const api = new FakeJobsApi();
    api.onExecutions = async () =>
      page(makeExecution({ id: 'exec0001abcd', state: 'FAILED' }));
    const model = new JobsModel({ api, trans });
    await model.refresh();
    api.onExecutions = async () =>
      page(
        makeExecution({ id: 'exec0002abcd', state: 'QUEUED' }),
        makeExecution({ id: 'exec0001abcd', state: 'FAILED' })
      );
    await Promise.all([
      model.rerun('exec0001abcd'),
      model.rerun('exec0001abcd')
    ]);
    expect(api.calls.filter(c => c.startsWith('rerun'))).toEqual([
      'rerun exec0001abcd'
    ]);
    await waitFor(() => model.state.executions.length === 2);
    expect(model.state.executions.map(e => e.id)).toEqual([
      'exec0002abcd',
      'exec0001abcd'
    ]);
    model.dispose();
  });
});

describe('JobsSection', () => {
  let widget: Widget | null = null;
  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  it('shows the state and cell progress as the execution moves', async () => {
    const api = new FakeJobsApi();
    const model = new JobsModel({ api, trans });
    api.onExecutions = async () =>
      page(makeExecution({ state: 'RUNNING', cells_done: 1, cells_total: 4 }));
    widget = render(<JobsSection model={model} trans={trans} />);
    await act(() => model.refresh());
    const item = (): HTMLElement =>
      widget!.node.querySelector('.jp-MlopsLab-job') as HTMLElement;
    await waitFor(() => item() !== null);
    expect(item().dataset.state).toBe('RUNNING');
    expect(item().textContent).toContain('1/4 cells');
    expect(item().querySelector('progress')?.getAttribute('value')).toBe('25');
    expect(item().querySelector('.jp-MlopsLab-jobCancel')).not.toBeNull();

    api.onExecutions = async () =>
      page(
        makeExecution({
          state: 'FAILED',
          cells_done: 2,
          cells_total: 4,
          error: { cell_index: 2, name: 'ValueError', message: 'bad alpha' },
          run_id: 'run1',
          experiment_id: '7'
        })
      );
    await act(() => model.refresh());
    await waitFor(() => item().dataset.state === 'FAILED');
    expect(item().textContent).toContain('Cell 2: ValueError: bad alpha');
    expect(item().querySelector('.jp-MlopsLab-jobCancel')).toBeNull();
    expect(item().querySelector('.jp-MlopsLab-jobRerun')).not.toBeNull();
    model.dispose();
  });

  it('cancels a queued execution and links a finished one to its run', async () => {
    const api = new FakeJobsApi();
    const model = new JobsModel({ api, trans });
    api.onExecutions = async () =>
      page(
        makeExecution({
          id: 'a',
          state: 'QUEUED',
          run_id: null,
          experiment_id: null
        }),
        makeExecution({
          id: 'b',
          state: 'SUCCEEDED',
          run_id: 'run-b',
          experiment_id: '3'
        })
      );
    // A queued execution has no MLflow run yet, cancelled or not.
    api.onCancel = async id =>
      makeExecution({
        id,
        state: 'CANCELLED',
        run_id: null,
        experiment_id: null
      });
    const opened: string[] = [];
    widget = render(
      <JobsSection
        model={model}
        trans={trans}
        onOpenRun={(experimentId, runId) =>
          opened.push(`${experimentId}/${runId}`)
        }
      />
    );
    await act(() => model.refresh());
    await waitFor(
      () => widget!.node.querySelector('[data-execution-id="a"]') !== null
    );
    const cancel = widget.node.querySelector(
      '[data-execution-id="a"] .jp-MlopsLab-jobCancel'
    ) as HTMLButtonElement;
    await act(async () => cancel.click());
    await waitFor(() => api.calls.includes('cancel a'));
    const run = widget.node.querySelector(
      '[data-execution-id="b"] .jp-MlopsLab-jobRun'
    ) as HTMLButtonElement;
    run.click();
    expect(opened).toEqual(['3/run-b']);
    expect(
      widget.node.querySelector('[data-execution-id="a"] .jp-MlopsLab-jobRun')
    ).toBeNull();
    model.dispose();
  });

  it('renders the recorded page and log of a real execution', async () => {
    const api = new FakeJobsApi();
    api.onExecutions = async () => executionsPageAnswer();
    api.onLog = async () => executionLogAnswer();
    const model = new JobsModel({ api, trans });
    const opened: string[] = [];
    widget = render(
      <JobsSection
        model={model}
        trans={trans}
        onOpenOutput={execution => opened.push(execution.id)}
      />
    );
    await act(() => model.refresh());
    const item = (): HTMLElement | null =>
      widget!.node.querySelector('[data-execution-id="<execution>"]');
    await waitFor(() => item() !== null);
    expect(item()!.dataset.state).toBe('SUCCEEDED');
    expect(item()!.textContent).toContain('3/3 cells');
    expect(item()!.textContent).toContain('alpha=2.5');
    expect(item()!.querySelector('progress')).toBeNull();
    (item()!.querySelector('.jp-MlopsLab-jobOutput') as HTMLElement).click();
    expect(opened).toEqual(['<execution>']);
    await act(() => model.toggleLog('<execution>'));
    await waitFor(
      () => item()!.querySelector('.jp-MlopsLab-jobLogText') !== null
    );
    expect(
      item()!.querySelector('.jp-MlopsLab-jobLogText')!.textContent
    ).toContain('alpha=2.5 epochs=3');
    model.dispose();
  });

  it('says how to start when there is no job yet', async () => {
    const model = new JobsModel({ api: new FakeJobsApi(), trans });
    widget = render(<JobsSection model={model} trans={trans} />);
    await act(() => model.refresh());
    await waitFor(() => widget!.node.textContent!.includes('Run as job'));
    model.dispose();
  });
});

describe('RunAsJob', () => {
  let widget: Widget | null = null;
  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  function input(name: string): HTMLInputElement {
    return widget!.node.querySelector(`[name="${name}"]`) as HTMLInputElement;
  }

  async function mountForm(api: FakeJobsApi, saved: string[]): Promise<void> {
    widget = render(
      <RunAsJob
        notebook="train.ipynb"
        api={api}
        trans={trans}
        save={async () => {
          saved.push('saved');
        }}
        onSubmitted={() => undefined}
      />
    );
    await waitFor(() => widget!.node.querySelector('[name="alpha"]') !== null);
  }

  it('fills the defaults and shows a wrong type inline, sending nothing', async () => {
    const api = new FakeJobsApi();
    const saved: string[] = [];
    await mountForm(api, saved);
    expect(input('alpha').value).toBe('0.5');
    expect(input('epochs').value).toBe('3');
    expect(input('verbose').checked).toBe(false);
    await act(async () => type(widget!.node, 'alpha', 'abc'));
    expect(widget!.node.textContent).toContain(
      "alpha expects float, got 'abc'"
    );
    const submit = widget!.node.querySelector(
      '.jp-MlopsLab-jobSubmit'
    ) as HTMLButtonElement;
    await act(async () => submit.click());
    expect(api.submitted).toEqual([]);
    expect(saved).toEqual([]);
  });

  it('saves, submits once with a key, and shows the server 400 beside its field', async () => {
    const api = new FakeJobsApi();
    const saved: string[] = [];
    api.onSubmit = async () => {
      throw recordedError('job_submit_bad_timeout');
    };
    await mountForm(api, saved);
    await act(async () => type(widget!.node, 'timeout', '5'));
    const submit = widget!.node.querySelector(
      '.jp-MlopsLab-jobSubmit'
    ) as HTMLButtonElement;
    await act(async () => {
      submit.click();
      submit.click();
    });
    await waitFor(() => widget!.node.textContent!.includes('more than 0'));
    expect(api.submitted.length).toBe(1);
    expect(saved).toEqual(['saved']);
    expect(api.submitted[0].idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      widget!.node.querySelector(
        '[data-param="timeout"] .jp-MlopsLab-fieldError'
      )?.textContent
    ).toContain('timeout must be more than 0');
  });

  it('runs the same values again on purpose with a new key', async () => {
    const api = new FakeJobsApi();
    await mountForm(api, []);
    const submit = widget!.node.querySelector(
      '.jp-MlopsLab-jobSubmit'
    ) as HTMLButtonElement;
    await act(async () => submit.click());
    await waitFor(() => api.submitted.length === 1 && !submit.disabled);
    await act(async () => submit.click());
    await waitFor(() => api.submitted.length === 2);
    const [first, second] = api.submitted.map(r => r.idempotency_key);
    expect(first).not.toEqual(second);
  });
});
