/**
 * The sidebar's Runs section and the Runs explorer render the model: the empty
 * experiment hint, the compact list opening runs in the explorer, the explorer's
 * rows with their param and metric columns, the server's message under the
 * filter box, the stale-token notice and the comparison with the server's labels.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import React from 'react';

import { noRunsMessage } from '../components/PageStatus';
import { RunsSection } from '../components/RunsSection';
import { RunsExplorer } from '../explorer/RunsExplorer';
import { ColumnChoices } from '../runs/columns';
import { RunsModel } from '../runs/model';
import { FakeApi, makePage, makeRun } from './fakeApi';
import {
  experimentsAnswer,
  recordedError,
  runDetailAnswer,
  runsPageAnswer
} from './recorded';
import { render, waitFor } from './view';

const trans = nullTranslator.load('mlops_lab');

function mount(
  model: RunsModel,
  mlflowUiUrl: string | null = null,
  onOpenRun?: (experimentId: string, runId: string) => void
): Widget {
  return render(
    <RunsSection
      model={model}
      trans={trans}
      mlflowUiUrl={mlflowUiUrl}
      onOpenRun={onOpenRun}
    />
  );
}

function mountExplorer(model: RunsModel): Widget {
  return render(
    <RunsExplorer
      model={model}
      columns={new ColumnChoices(null)}
      trans={trans}
    />
  );
}

describe('RunsSection', () => {
  let widget: Widget | null = null;
  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  it('tells how to track runs when the experiment has none', async () => {
    const api = new FakeApi();
    api.onRuns = async () => makePage([]);
    const model = new RunsModel({ api, trans });
    widget = mount(model);
    await waitFor(
      () => widget!.node.querySelector('.jp-MlopsLab-noRuns') !== null
    );
    expect(widget.node.querySelector('.jp-MlopsLab-noRuns')?.textContent).toBe(
      'No runs yet: add `%load_ext mlops_lab` and `%mlops track` to a notebook.'
    );
    expect(noRunsMessage(trans)).toContain('%mlops track');
    model.dispose();
  });

  it('lists runs compactly with status and one chosen metric, each opening in the explorer', async () => {
    const api = new FakeApi();
    api.onRuns = async () =>
      makePage([
        makeRun('best', { C: '1.0' }, { accuracy: 0.98765, loss: 0.1 }),
        makeRun('other', { C: '10' }, { accuracy: 0.5 })
      ]);
    const opened: string[][] = [];
    const model = new RunsModel({ api, trans });
    widget = mount(model, 'http://mlflow.example:5000', (experiment, run) =>
      opened.push([experiment, run])
    );
    const node = widget.node;
    await waitFor(
      () => node.querySelectorAll('.jp-MlopsLab-recentRun').length === 2
    );
    const cells = (selector: string): (string | null)[] =>
      Array.from(node.querySelectorAll(selector)).map(e => e.textContent);
    expect(cells('.jp-MlopsLab-recentName')).toEqual(['best', 'other']);
    expect(cells('.jp-MlopsLab-recentRun .jp-MlopsLab-status')).toEqual([
      'FINISHED',
      'FINISHED'
    ]);
    expect(cells('.jp-MlopsLab-recentValue')).toEqual(['0.9877', '0.5']);
    // No wide table, no params in the sidebar.
    expect(node.querySelector('.jp-MlopsLab-runsTable')).toBeNull();
    expect(
      node.querySelector('.jp-MlopsLab-mlflowUi')?.getAttribute('href')
    ).toBe('http://mlflow.example:5000');

    const select = node.querySelector<HTMLSelectElement>(
      'select[aria-label="Metric shown in the list"]'
    )!;
    select.value = 'loss';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await waitFor(() => cells('.jp-MlopsLab-recentValue')[0] === '0.1');
    expect(cells('.jp-MlopsLab-recentValue')).toEqual(['0.1', '']);

    node.querySelector<HTMLButtonElement>('.jp-MlopsLab-recentName')!.click();
    expect(opened).toEqual([[model.state.experimentId, '<run:best>']]);
    model.dispose();
  });

  it('gives the names the room of the value when no run has a metric', async () => {
    const api = new FakeApi();
    api.onRuns = async () => makePage([makeRun('grid-notebook')]);
    const model = new RunsModel({ api, trans });
    widget = mount(model);
    const node = widget.node;
    await waitFor(
      () => node.querySelectorAll('.jp-MlopsLab-recentRun').length === 1
    );
    expect(node.querySelector('.jp-MlopsLab-recentValue')).toBeNull();
    expect(
      node.querySelector('select[aria-label="Metric shown in the list"]')
    ).toBeNull();
    expect(node.querySelector('.jp-MlopsLab-recentList')?.classList).toContain(
      'jp-MlopsLab-recentList-noMetric'
    );
    model.dispose();
  });

  it("lists the run's models with their size in the explorer's details", async () => {
    const model = new RunsModel({ api: new FakeApi(), trans });
    widget = mountExplorer(model);
    await model.loadExperiments();
    await model.showDetails('<run:alpha>');
    const node = widget.node;
    await waitFor(() => node.querySelector('.jp-MlopsLab-models') !== null);

    const rows = Array.from(
      node.querySelectorAll('.jp-MlopsLab-models tr[data-model]')
    ).map(row => [
      row.querySelector('th')?.textContent,
      row.querySelector('.jp-MlopsLab-modelSize')?.textContent
    ]);
    // The recorded answer: a logged model and a model folder, 46,231 bytes each.
    expect(rows).toEqual([
      ['classifier', '46.2 kB'],
      ['exported/model', '46.2 kB']
    ]);
    const logged = node.querySelector('tr[data-model="classifier"]')!;
    expect(logged.querySelector('th')?.getAttribute('title')).toBe(
      'models:/<model:classifier>'
    );
    expect(
      logged.querySelector('.jp-MlopsLab-modelSize')?.getAttribute('title')
    ).toBe('2 files');
    model.dispose();
  });

  it('marks a model still uploading and one of unknown size', async () => {
    const api = new FakeApi();
    const recorded = runDetailAnswer();
    api.onRun = async () => ({
      ...recorded,
      models: [
        { ...recorded.models[0], status: 'PENDING', size_bytes: 1_500_000 },
        { ...recorded.models[1], size_bytes: null }
      ]
    });
    const model = new RunsModel({ api, trans });
    widget = mountExplorer(model);
    await model.showDetails('<run:alpha>');
    const node = widget.node;
    await waitFor(() => node.querySelector('.jp-MlopsLab-models') !== null);
    expect(
      Array.from(node.querySelectorAll('.jp-MlopsLab-models tr')).map(
        row => row.textContent
      )
    ).toEqual(['classifier (pending)1.5 MB', 'exported/modelsize unknown']);
    model.dispose();
  });

  it('shows the rows and sortable param and metric headers in the explorer', async () => {
    const api = new FakeApi();
    api.onRuns = async () =>
      makePage(
        [
          makeRun('best', { C: '1.0' }, { accuracy: 0.98765 }),
          makeRun('other', { C: '10' }, { accuracy: 0.5 })
        ],
        'next'
      );
    const model = new RunsModel({ api, trans });
    widget = mountExplorer(model);
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

  it("shows the server's message under the filter box", async () => {
    const api = new FakeApi();
    api.onRuns = async query => {
      if (query.filter) {
        throw recordedError('runs_bad_filter');
      }
      return runsPageAnswer();
    };
    const model = new RunsModel({ api, trans });
    widget = mountExplorer(model);
    await model.loadExperiments();
    await model.setFilter('metrics.acc >');
    const node = widget.node;
    await waitFor(
      () => node.querySelector('.jp-MlopsLab-filterError') !== null
    );
    expect(node.querySelector('.jp-MlopsLab-filterError')?.textContent).toBe(
      "Invalid clause(s) in filter string: 'metrics.acc', '>'"
    );
    expect(node.querySelectorAll('.jp-MlopsLab-runRow')).toHaveLength(2);
    model.dispose();
  });

  it('pages the experiments picker with Load more and searches by name', async () => {
    const api = new FakeApi();
    api.onExperiments = async query =>
      experimentsAnswer(
        query?.pageToken
          ? 'experiments'
          : query?.name
            ? 'experiments_by_name'
            : 'experiments_page'
      );
    const model = new RunsModel({ api, trans });
    widget = mount(model);
    const node = widget.node;
    const options = (): string[] =>
      Array.from(
        node.querySelectorAll('.jp-MlopsLab-experimentSelect option')
      ).map(option => option.textContent ?? '');
    await waitFor(() => options().length === 1);
    expect(options()).toEqual(['exp']);

    node
      .querySelector<HTMLButtonElement>('.jp-MlopsLab-loadMoreExperiments')!
      .click();
    await waitFor(() => options().length === 2);
    expect(options()).toEqual(['exp', 'Default']);
    expect(node.querySelector('.jp-MlopsLab-loadMoreExperiments')).toBeNull();

    const search = node.querySelector<HTMLInputElement>(
      '.jp-MlopsLab-experimentSearch'
    )!;
    // React tracks the input's value; set it the way a user's typing does.
    Object.getOwnPropertyDescriptor(
      HTMLInputElement.prototype,
      'value'
    )!.set!.call(search, 'EX');
    search.dispatchEvent(new Event('input', { bubbles: true }));
    search.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
    );
    await waitFor(() => options().length === 1);
    expect(api.experimentQueries[api.experimentQueries.length - 1]?.name).toBe(
      'EX'
    );
    model.dispose();
  });

  it('shows a stale page token as a notice, not a filter error', async () => {
    const api = new FakeApi();
    let stale = false;
    api.onRuns = async query => {
      if (query.pageToken && stale) {
        throw recordedError('runs_bad_page_token');
      }
      return makePage([makeRun(query.pageToken ?? 'first')], 'tok');
    };
    const model = new RunsModel({ api, trans });
    widget = mountExplorer(model);
    await model.loadExperiments();
    await model.nextPage();
    stale = true;
    await model.nextPage();
    const node = widget.node;
    await waitFor(() => node.querySelector('.jp-MlopsLab-notice') !== null);
    expect(node.querySelector('.jp-MlopsLab-notice')?.textContent).toBe(
      'The runs changed since that page was fetched: back to the first page.'
    );
    expect(node.querySelector('.jp-MlopsLab-filterError')).toBeNull();
    expect(node.querySelector('.jp-MlopsLab-pageInfo')?.textContent).toBe(
      'Page 1 · 1 run'
    );
    model.dispose();
  });

  it("compares two selected runs with the server's labels and values", async () => {
    const api = new FakeApi();
    const model = new RunsModel({ api, trans });
    widget = mountExplorer(model);
    await model.loadExperiments();
    const node = widget.node;
    await waitFor(
      () => node.querySelectorAll('.jp-MlopsLab-selectRun').length === 2
    );
    for (const box of Array.from(
      node.querySelectorAll<HTMLInputElement>('.jp-MlopsLab-selectRun')
    )) {
      box.click();
    }
    await waitFor(
      () => node.querySelectorAll('.jp-MlopsLab-chartData tbody tr').length > 0
    );
    expect(node.querySelector('.jp-MlopsLab-compare h3')?.textContent).toBe(
      'Compare 2 runs'
    );
    const rows = Array.from(
      node.querySelectorAll('.jp-MlopsLab-chartData tbody tr')
    ).map(row =>
      Array.from(row.querySelectorAll('td')).map(cell => cell.textContent)
    );
    // The server orders the comparison by its run ids' order: beta was picked first.
    expect(rows).toEqual([
      ['alpha (<run8:alpha>)', '0.8'],
      ['beta (<run8:beta>)', '0.9']
    ]);
    expect(api.compared).toEqual([['<run:beta>', '<run:alpha>']]);
    // A bar chart per shown metric, with the same labels and the values written.
    const bars = node.querySelector(
      '.jp-MlopsLab-metricBarChart[data-metric="acc"]'
    );
    expect(
      Array.from(bars?.querySelectorAll('.jp-MlopsLab-barLabel') ?? []).map(
        e => e.textContent
      )
    ).toEqual(['alpha (<run8:alpha>)', 'beta (<run8:beta>)']);
    expect(
      Array.from(bars?.querySelectorAll('.jp-MlopsLab-barValue') ?? []).map(
        e => e.textContent
      )
    ).toEqual(['0.8', '0.9']);

    // Fetching the experiments again (the panel shown again) keeps the chart
    // as the user set it rather than tearing the section down.
    const mode = node.querySelector<HTMLSelectElement>(
      'select[aria-label="Chart"]'
    )!;
    mode.value = 'history';
    mode.dispatchEvent(new Event('change', { bubbles: true }));
    await waitFor(
      () =>
        node
          .querySelector('.jp-MlopsLab-compareChart')
          ?.getAttribute('data-mode') === 'history'
    );
    const chart = node.querySelector('.jp-MlopsLab-compareChart');
    api.onExperiments = async () => {
      await new Promise(resolve => setTimeout(resolve, 50));
      return experimentsAnswer();
    };
    await model.refresh();
    expect(node.querySelector('.jp-MlopsLab-compareChart')).toBe(chart);
    expect(chart?.getAttribute('data-mode')).toBe('history');
    model.dispose();
  });
});
