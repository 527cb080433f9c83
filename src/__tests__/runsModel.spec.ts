/**
 * The Runs model: pages through tokens, sorts and filters through the server,
 * tells the server's 400s apart by the parameter they name, pages and searches
 * the experiments, compares the selected runs through the server.
 */
import { StateDB } from '@jupyterlab/statedb';
import { nullTranslator } from '@jupyterlab/translation';

import {
  childrenFilter,
  joinFilters,
  RunsModel,
  STATE_KEY,
  TOP_LEVEL_FILTER
} from '../runs/model';
import { notebookFilter } from '../runs/notebookFilter';
import { FakeApi, makePage, makeRun } from './fakeApi';
import {
  compareAnswer,
  experimentsAnswer,
  recordedError,
  runsPageAnswer
} from './recorded';

const trans = nullTranslator.load('mlops_lab');

describe('RunsModel', () => {
  let api: FakeApi;
  let model: RunsModel;

  beforeEach(() => {
    api = new FakeApi();
    model = new RunsModel({ api, trans, pageSize: 2 });
  });

  afterEach(() => model.dispose());

  it('chooses the most recently updated experiment and loads its first page', async () => {
    await model.loadExperiments();

    expect(model.state.experimentId).toBe('1');
    expect(api.queries).toEqual([
      {
        experiment: '1',
        filter: undefined,
        orderBy: undefined,
        maxResults: 2,
        pageToken: undefined
      }
    ]);
    expect(model.state.page).toEqual({
      status: 'ready',
      value: runsPageAnswer()
    });
  });

  it('goes Next with the page token and Previous with the one before', async () => {
    const pages: Record<string, ReturnType<typeof makePage>> = {
      first: makePage([makeRun('a'), makeRun('b')], 'tok-2'),
      'tok-2': makePage([makeRun('c'), makeRun('d')], 'tok-3'),
      'tok-3': makePage([makeRun('e')], null)
    };
    api.onRuns = async query => pages[query.pageToken ?? 'first'];
    await model.loadExperiments();

    await model.nextPage();
    await model.nextPage();
    expect(model.state.pageIndex).toBe(2);
    // No next token on the last page: Next does nothing.
    await model.nextPage();
    await model.previousPage();
    await model.previousPage();

    expect(api.queries.map(q => q.pageToken)).toEqual([
      undefined,
      'tok-2',
      'tok-3',
      'tok-2',
      undefined
    ]);
    expect(model.state.pageIndex).toBe(0);
    expect(model.state.canGoBack).toBe(false);
  });

  it('sorts through the server from the first page, toggling the direction', async () => {
    api.onRuns = async () => makePage([makeRun('a')], 'tok-2');
    await model.loadExperiments();
    await model.nextPage();

    await model.sortBy('metrics', 'accuracy');
    await model.sortBy('metrics', 'accuracy');

    expect(api.queries.slice(2).map(q => [q.orderBy, q.pageToken])).toEqual([
      ['metrics.accuracy DESC', undefined],
      ['metrics.accuracy ASC', undefined]
    ]);
    expect(model.state.sort?.direction).toBe('ASC');
    expect(model.state.pageIndex).toBe(0);
  });

  it("keeps the rows and shows the server's message under the filter box when it refuses the filter", async () => {
    const good = runsPageAnswer();
    api.onRuns = async query => {
      if (query.filter === 'metrics.acc >') {
        throw recordedError('runs_bad_filter');
      }
      return good;
    };
    await model.loadExperiments();
    await model.setFilter('metrics.acc > 0.5');
    expect(model.state.filter).toBe('metrics.acc > 0.5');

    await model.setFilter('metrics.acc >');

    expect(model.state.filterError).toBe(
      "Invalid clause(s) in filter string: 'metrics.acc', '>'"
    );
    expect(model.state.page).toEqual({ status: 'ready', value: good });
    // The filter in effect is still the last one the server accepted.
    expect(model.state.filter).toBe('metrics.acc > 0.5');

    await model.setFilter('');
    expect(model.state.filterError).toBeNull();
  });

  it('shows a refused order under the filter box too', async () => {
    await model.loadExperiments();
    api.onRuns = async () => {
      throw recordedError('runs_bad_order_by');
    };
    await model.sortBy('metrics', '`acc');
    expect(model.state.filterError).toBe(
      "Invalid order_by clause 'metrics.`acc'. Could not be parsed."
    );
    expect(model.state.page.status).toBe('ready');
  });

  it('starts again from the first page with a notice when the page token is stale', async () => {
    let stale = false;
    api.onRuns = async query => {
      if (query.pageToken === 'tok-2' && stale) {
        throw recordedError('runs_bad_page_token');
      }
      return makePage([makeRun(query.pageToken ?? 'first')], 'tok-2');
    };
    await model.loadExperiments();
    await model.nextPage();
    await model.nextPage();
    expect(model.state.pageIndex).toBe(2);

    stale = true;
    await model.previousPage();

    expect(api.queries.map(q => q.pageToken)).toEqual([
      undefined,
      'tok-2',
      'tok-2',
      'tok-2',
      undefined
    ]);
    expect(model.state.pageIndex).toBe(0);
    expect(model.state.filterError).toBeNull();
    expect(model.state.notice).toBe(
      'The runs changed since that page was fetched: back to the first page.'
    );
    expect(model.state.page.status).toBe('ready');
  });

  it('shows other 400s as a general error, not under the filter box', async () => {
    api.onRuns = async () => {
      throw recordedError('runs_bad_max_results');
    };
    await model.loadExperiments();
    expect(model.state.filterError).toBeNull();
    expect(model.state.page).toEqual({
      status: 'failed',
      message: 'max_results must be 1..1000, got 0.'
    });
  });

  it('shows other failures verbatim in place of the rows', async () => {
    api.onRuns = async () => {
      throw recordedError('runs_unknown_experiment');
    };
    await model.loadExperiments();
    expect(model.state.page).toEqual({
      status: 'failed',
      message:
        "Experiment 'nope' was not found in sqlite:///<root>/.mlops/mlflow.db."
    });
  });

  it('shows the configuration message when the server is misconfigured', async () => {
    api.onExperiments = async () => {
      throw recordedError('experiments_misconfigured');
    };
    await model.loadExperiments();
    const state = model.state.experiments;
    expect(state.status).toBe('failed');
    expect(state.status === 'failed' && state.message).toContain(
      "Unknown key 'traking-uri'"
    );
  });

  it('pages the experiments with "Load more" and searches them by name', async () => {
    api.onExperiments = async query =>
      experimentsAnswer(
        query?.pageToken
          ? 'experiments'
          : query?.name
            ? 'experiments_by_name'
            : 'experiments_page'
      );
    await model.loadExperiments();
    const names = (): string[] => {
      const state = model.state.experiments;
      return state.status === 'ready' ? state.value.map(e => e.name) : [];
    };
    expect(names()).toEqual(['exp']);
    expect(model.state.experimentsNextToken).toBe('<page-token>');

    await model.loadMoreExperiments();
    // The page after adds what was not listed yet.
    expect(names()).toEqual(['exp', 'Default']);
    expect(model.state.experimentsNextToken).toBeNull();

    await model.searchExperiments(' EX ');
    expect(names()).toEqual(['exp']);
    expect(api.experimentQueries.map(q => [q?.name, q?.pageToken])).toEqual([
      [undefined, undefined],
      [undefined, '<page-token>'],
      ['EX', undefined]
    ]);
    // The chosen experiment stays chosen.
    expect(model.state.experimentId).toBe('1');
  });

  it('keeps an experiment chosen from a later page when the list is fetched again', async () => {
    api.onExperiments = async query =>
      experimentsAnswer(query?.pageToken ? 'experiments' : 'experiments_page');
    await model.loadExperiments();
    await model.loadMoreExperiments();
    await model.selectExperiment('0');

    await model.refresh();

    expect(model.state.experimentId).toBe('0');
    const state = model.state.experiments;
    expect(state.status === 'ready' && state.value.map(e => e.name)).toEqual([
      'exp',
      'Default'
    ]);
  });

  it('asks for a remembered experiment past the first page', async () => {
    api.onExperiments = async () => experimentsAnswer('experiments_page');
    const stateDB = new StateDB();
    await stateDB.save(STATE_KEY, { experiment: '0' });
    const other = new RunsModel({ api, trans, stateDB });
    await other.loadExperiments();
    expect(other.state.experimentId).toBe('0');
    expect(api.queries[api.queries.length - 1].experiment).toBe('0');
    other.dispose();
  });

  it('remembers the chosen experiment in the state DB', async () => {
    const stateDB = new StateDB();
    const first = new RunsModel({ api, trans, stateDB });
    await first.loadExperiments();
    await first.selectExperiment('0');
    first.dispose();
    expect(await stateDB.fetch(STATE_KEY)).toEqual({ experiment: '0' });

    const second = new RunsModel({ api, trans, stateDB });
    await second.loadExperiments();
    expect(second.state.experimentId).toBe('0');
    second.dispose();
  });

  it('compares the selected runs through the server once two are selected', async () => {
    const [beta, alpha] = runsPageAnswer().runs;
    await model.toggleSelected(alpha);
    expect(api.compared).toEqual([]);
    expect(model.state.comparison.status).toBe('idle');

    await model.toggleSelected(beta);
    expect(api.compared).toEqual([['<run:alpha>', '<run:beta>']]);
    expect(model.state.comparison).toEqual({
      status: 'ready',
      value: compareAnswer()
    });

    await model.toggleSelected(alpha);
    expect(model.state.selected.map(r => r.run_name)).toEqual(['beta']);
    expect(model.state.comparison.status).toBe('idle');
  });

  it('shows why the comparison failed', async () => {
    api.onCompare = async () => {
      throw recordedError('run_not_found');
    };
    await model.toggleSelected(makeRun('a'));
    await model.toggleSelected(makeRun('b'));
    expect(model.state.comparison).toEqual({
      status: 'failed',
      message: "Run 'abc' was not found in sqlite:///<root>/.mlops/mlflow.db."
    });
  });

  it('emits stateChanged and stops once disposed', async () => {
    const seen: string[] = [];
    model.stateChanged.connect((_, state) => seen.push(state.page.status));
    await model.loadExperiments();
    expect(seen).toContain('ready');
    model.dispose();
    const count = seen.length;
    await model.refresh();
    expect(seen.length).toBe(count);
  });
});

describe('RunsModel with a base filter (the sidebar: notebook runs only)', () => {
  it("asks every page with the base filter, AND the user's, and shows only the user's", async () => {
    const api = new FakeApi();
    const model = new RunsModel({ api, trans, baseFilter: TOP_LEVEL_FILTER });
    await model.loadExperiments();
    expect(api.queries[0].filter).toBe('tags.`mlflow.parentRunId` IS NULL');
    expect(model.state.filter).toBe('');

    const mine = notebookFilter('work/train.ipynb');
    await model.setFilter(mine);
    expect(api.queries[api.queries.length - 1].filter).toBe(
      `tags.\`mlflow.parentRunId\` IS NULL AND ${mine}`
    );
    expect(model.state.filter).toBe(mine);

    // Children are still asked for by their parent alone.
    await model.fetchChildren('p1');
    expect(api.queries[api.queries.length - 1].filter).toBe(
      childrenFilter('p1')
    );
    model.dispose();
  });

  it('joins filters, leaving out the empty ones', () => {
    expect(joinFilters('a = 1', ' b = 2 ')).toBe('a = 1 AND b = 2');
    expect(joinFilters('', 'b = 2')).toBe('b = 2');
    expect(joinFilters('a = 1', '  ')).toBe('a = 1');
    expect(joinFilters('', '')).toBe('');
  });
});
