/**
 * The Runs section renders the model: the empty experiment hint, the rows with
 * their param and metric columns, and MLflow's message under the filter box.
 */
import { Widget } from '@lumino/widgets';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { NO_RUNS_MESSAGE, RunsSection } from '../components/RunsSection';
import { MlopsLabResponseError } from '../request';
import { RunsModel } from '../runs/model';
import { FakeApi, makePage, makeRun } from './fakeApi';

async function waitFor(check: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) {
      throw new Error('Timed out waiting for the section to render.');
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

function mount(model: RunsModel, mlflowUiUrl: string | null = null): Widget {
  const widget = ReactWidget.create(
    <RunsSection model={model} mlflowUiUrl={mlflowUiUrl} />
  );
  Widget.attach(widget, document.body);
  return widget;
}

describe('RunsSection', () => {
  let widget: Widget | null = null;
  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  it('tells how to track runs when the experiment has none', async () => {
    const model = new RunsModel({ api: new FakeApi() });
    widget = mount(model);
    await waitFor(
      () => widget!.node.querySelector('.jp-MlopsLab-noRuns') !== null
    );
    expect(widget.node.querySelector('.jp-MlopsLab-noRuns')?.textContent).toBe(
      NO_RUNS_MESSAGE
    );
    model.dispose();
  });

  it('shows the rows, sortable param and metric headers and the MLflow link', async () => {
    const api = new FakeApi();
    api.onRuns = async () =>
      makePage(
        [
          makeRun('best', { C: '1.0' }, { accuracy: 0.98765 }),
          makeRun('other', { C: '10' }, { accuracy: 0.5 })
        ],
        'next'
      );
    const model = new RunsModel({ api });
    widget = mount(model, 'http://mlflow.example:5000');
    const node = widget.node;
    await waitFor(
      () => node.querySelectorAll('.jp-MlopsLab-runRow').length === 2
    );

    expect(
      Array.from(node.querySelectorAll('.jp-MlopsLab-runName')).map(
        e => e.textContent
      )
    ).toEqual(['best', 'other']);
    expect(
      node.querySelector('td[data-column="metrics.accuracy"]')?.textContent
    ).toBe('0.9877');
    expect(node.querySelector('th[data-column="params.C"]')).not.toBeNull();
    expect(
      node.querySelector('.jp-MlopsLab-mlflowUi')?.getAttribute('href')
    ).toBe('http://mlflow.example:5000');
    expect(
      (node.querySelector('.jp-MlopsLab-next') as HTMLButtonElement).disabled
    ).toBe(false);
    expect(
      (node.querySelector('.jp-MlopsLab-previous') as HTMLButtonElement)
        .disabled
    ).toBe(true);

    (
      node.querySelector(
        'th[data-column="metrics.accuracy"] button'
      ) as HTMLButtonElement
    ).click();
    await waitFor(
      () =>
        node.querySelector(
          'th[data-column="metrics.accuracy"] .jp-MlopsLab-sortIndicator'
        )?.textContent === '▼'
    );
    expect(api.queries[api.queries.length - 1].orderBy).toBe(
      'metrics.accuracy DESC'
    );
    model.dispose();
  });

  it("shows MLflow's message under the filter box", async () => {
    const api = new FakeApi();
    api.onRuns = async query => {
      if (query.filter) {
        throw new MlopsLabResponseError(
          new Response('', { status: 400 }),
          "Invalid clause(s) in filter string: 'nonsense'",
          'INVALID'
        );
      }
      return makePage([makeRun('a')]);
    };
    const model = new RunsModel({ api });
    widget = mount(model);
    await model.loadExperiments();
    await model.setFilter('nonsense');
    const node = widget.node;
    await waitFor(
      () => node.querySelector('.jp-MlopsLab-filterError') !== null
    );
    expect(node.querySelector('.jp-MlopsLab-filterError')?.textContent).toBe(
      "Invalid clause(s) in filter string: 'nonsense'"
    );
    expect(node.querySelectorAll('.jp-MlopsLab-runRow')).toHaveLength(1);
    model.dispose();
  });
});
