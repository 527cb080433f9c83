/**
 * The Runs model: pages through tokens, sorts and filters through the server,
 * keeps the rows when MLflow refuses a filter, remembers the experiment.
 */
import { StateDB } from '@jupyterlab/statedb';

import { MlopsLabResponseError } from '../request';
import { RunsModel, STATE_KEY } from '../runs/model';
import { FakeApi, makePage, makeRun } from './fakeApi';

function refused(message: string): MlopsLabResponseError {
  const response = new Response(JSON.stringify({ message, code: 'INVALID' }), {
    status: 400
  });
  return new MlopsLabResponseError(response, message, 'INVALID');
}

describe('RunsModel', () => {
  let api: FakeApi;
  let model: RunsModel;

  beforeEach(() => {
    api = new FakeApi();
    model = new RunsModel({ api, pageSize: 2 });
  });

  afterEach(() => model.dispose());

  it('chooses the most recently updated experiment and loads its first page', async () => {
    api.onRuns = async () => makePage([makeRun('a')], 'tok-2');
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
    expect(model.state.page.status).toBe('ready');
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

  it("keeps the rows and shows MLflow's message when the filter is refused", async () => {
    const good = makePage([makeRun('a'), makeRun('b')]);
    api.onRuns = async query => {
      if (query.filter?.includes('>>>')) {
        throw refused("Invalid comparator '>>>'");
      }
      return good;
    };
    await model.loadExperiments();
    await model.setFilter('metrics.accuracy > 0.5');
    expect(model.state.filter).toBe('metrics.accuracy > 0.5');

    await model.setFilter('metrics.accuracy >>> 0.5');

    expect(model.state.filterError).toBe("Invalid comparator '>>>'");
    expect(model.state.page).toEqual({ status: 'ready', value: good });
    // The filter in effect is still the last one the server accepted.
    expect(model.state.filter).toBe('metrics.accuracy > 0.5');

    await model.setFilter('');
    expect(model.state.filterError).toBeNull();
  });

  it('shows other failures verbatim in place of the rows', async () => {
    api.onRuns = async () => {
      throw new MlopsLabResponseError(
        new Response('', { status: 404 }),
        "Experiment '9' does not exist.",
        'NOT_FOUND'
      );
    };
    await model.loadExperiments();
    expect(model.state.page).toEqual({
      status: 'failed',
      message: "Experiment '9' does not exist."
    });
  });

  it('remembers the chosen experiment in the state DB', async () => {
    const stateDB = new StateDB();
    const first = new RunsModel({ api, stateDB });
    await first.loadExperiments();
    await first.selectExperiment('0');
    first.dispose();
    expect(await stateDB.fetch(STATE_KEY)).toEqual({ experiment: '0' });

    const second = new RunsModel({ api, stateDB });
    await second.loadExperiments();
    expect(second.state.experimentId).toBe('0');
    second.dispose();
  });

  it('keeps selected runs across pages and toggles them', async () => {
    const a = makeRun('a');
    const b = makeRun('b');
    model.toggleSelected(a);
    model.toggleSelected(b);
    model.toggleSelected(a);
    expect(model.state.selected.map(r => r.run_name)).toEqual(['b']);
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
