/**
 * The explorer's data: runs nested under their parent on the page to any depth, the
 * column choice per experiment (kept in a real state database), and the
 * parallel-coordinates axes and lines read from the server's comparison.
 */
import { StateDB } from '@jupyterlab/statedb';

import type { Comparison, RunSummary } from '../api/types';
import {
  ColumnChoices,
  parseChoice,
  toggleColumn,
  visibleColumns
} from '../runs/columns';
import { childrenFilter, RunsModel } from '../runs/model';
import { IRunNode, nestRuns, nodesById } from '../runs/nesting';
import { parallelCoordinates, sweptParams } from '../runs/parallel';
import { FakeApi, makePage, makeRun } from './fakeApi';
import { compareAnswer, recordedError } from './recorded';
import { nullTranslator } from '@jupyterlab/translation';

function child(name: string, parent: RunSummary | string): RunSummary {
  return {
    ...makeRun(name),
    parent_run_id: typeof parent === 'string' ? parent : parent.run_id
  };
}

/** The tree as nested arrays of names, easy to read in an expectation. */
type Shape = [string, Shape[]];
function shape(nodes: IRunNode[]): Shape[] {
  return nodes.map(node => [node.run.run_name ?? '', shape(node.children)]);
}

describe('nestRuns', () => {
  it('puts children under their parent when both are on the page', () => {
    const parent = makeRun('notebook');
    const other = makeRun('other');
    const a = child('a', parent);
    const b = child('b', parent);
    // Newest first: the children come before their parent on the page.
    const rows = nestRuns([a, other, b, parent]);
    expect(shape(rows)).toEqual([
      ['other', []],
      [
        'notebook',
        [
          ['a', []],
          ['b', []]
        ]
      ]
    ]);
    expect(rows.every(r => r.orphanOf === null)).toBe(true);
  });

  it('nests a search run and its candidates three levels deep, in page order', () => {
    const notebook = makeRun('notebook');
    const forest = child('RandomForestClassifier-1', notebook);
    const search = child('GridSearchCV-1', notebook);
    const candidates = [1, 2, 3].map(i =>
      child(`GridSearchCV-1-candidate-${i}`, search)
    );
    // Mixed as a page sorted by a metric may hold them.
    const rows = nestRuns([
      candidates[1],
      search,
      makeRun('baseline'),
      candidates[0],
      notebook,
      forest,
      candidates[2]
    ]);
    expect(shape(rows)).toEqual([
      ['baseline', []],
      [
        'notebook',
        [
          [
            'GridSearchCV-1',
            [
              ['GridSearchCV-1-candidate-2', []],
              ['GridSearchCV-1-candidate-1', []],
              ['GridSearchCV-1-candidate-3', []]
            ]
          ],
          ['RandomForestClassifier-1', []]
        ]
      ]
    ]);
    expect(nodesById(rows).size).toBe(7);
  });

  it('keeps a child whose parent is not on the page as a row with its parent id', () => {
    const orphan = child('lost', '0123456789abcdef');
    const rows = nestRuns([makeRun('x'), orphan]);
    expect(rows.map(r => r.run.run_name)).toEqual(['x', 'lost']);
    expect(rows[1].orphanOf).toBe('0123456789abcdef');
    expect(rows[1].children).toEqual([]);
  });

  it('keeps a search run whose notebook run is on another page, with its candidates under it', () => {
    const search = child('GridSearchCV-1', 'notebook-elsewhere');
    const candidate = child('GridSearchCV-1-candidate-1', search);
    const lost = child('GridSearchCV-2-candidate-1', 'search-elsewhere');
    const rows = nestRuns([candidate, lost, search]);
    expect(shape(rows)).toEqual([
      ['GridSearchCV-2-candidate-1', []],
      ['GridSearchCV-1', [['GridSearchCV-1-candidate-1', []]]]
    ]);
    expect(rows.map(r => r.orphanOf)).toEqual([
      'search-elsewhere',
      'notebook-elsewhere'
    ]);
    expect(rows[1].children[0].orphanOf).toBeNull();
  });

  it('shows a run naming itself as its parent once, at the top, with no hint', () => {
    const self = { ...makeRun('self') };
    self.parent_run_id = self.run_id;
    const under = child('under', self);
    const rows = nestRuns([self, under]);
    expect(shape(rows)).toEqual([['self', [['under', []]]]]);
    expect(rows[0].orphanOf).toBeNull();
  });

  it('breaks a loop of parents and still shows each run once', () => {
    // a -> b -> c -> a, and d under b: no run of the loop is on top.
    const a = makeRun('a');
    const b = child('b', a);
    const c = child('c', b);
    a.parent_run_id = c.run_id;
    const d = child('d', b);
    const rows = nestRuns([makeRun('first'), c, a, d, b]);
    expect(shape(rows)).toEqual([
      ['first', []],
      // The loop's first run on the page becomes a top-level row.
      ['c', [['a', [['b', [['d', []]]]]]]]
    ]);
    expect(rows[1].orphanOf).toBe(b.run_id);
    expect(nodesById(rows).size).toBe(5);
  });

  it('shows a run listed twice on the page once', () => {
    const run = makeRun('twice');
    expect(shape(nestRuns([run, { ...run }]))).toEqual([['twice', []]]);
  });

  it('loses no run of the page, whatever its parents', () => {
    const runs = [makeRun('top')];
    // A chain 2000 deep: nested without running out of stack.
    for (let i = 1; i < 2000; i++) {
      runs.push(child(`r${i}`, runs[i - 1]));
    }
    const rows = nestRuns(runs.slice().reverse());
    expect(rows).toHaveLength(1);
    expect(nodesById(rows).size).toBe(2000);
  });
});

describe('column choice', () => {
  const page = makePage([
    makeRun('r', { alpha: '1', depth: '2' }, { rmse: 0.3, r2: 0.7 })
  ]);

  it('shows every column until the user chooses, then the chosen ones in page order', () => {
    expect(visibleColumns(page, null)).toEqual({
      params: ['alpha', 'depth'],
      metrics: ['r2', 'rmse']
    });
    const choice = toggleColumn(page, null, 'metrics', 'r2');
    expect(choice).toEqual({ params: ['alpha', 'depth'], metrics: ['rmse'] });
    const back = toggleColumn(page, choice, 'metrics', 'r2');
    expect(visibleColumns(page, back).metrics).toEqual(['r2', 'rmse']);
    // A chosen key the page lacks is not shown.
    expect(
      visibleColumns(page, { params: ['gone'], metrics: ['rmse'] })
    ).toEqual({ params: [], metrics: ['rmse'] });
  });

  it('reads back only a well-formed stored choice', () => {
    expect(parseChoice({ params: ['a'], metrics: [] })).toEqual({
      params: ['a'],
      metrics: []
    });
    expect(parseChoice({ params: 'a', metrics: [] })).toBeNull();
    expect(parseChoice(null)).toBeNull();
  });

  it('remembers a choice per experiment in the state database', async () => {
    const db = new StateDB();
    const columns = new ColumnChoices(db);
    await columns.save('1', { params: ['alpha'], metrics: [] });
    await columns.save('2', { params: [], metrics: ['rmse'] });
    const again = new ColumnChoices(db);
    expect(await again.load('1')).toEqual({ params: ['alpha'], metrics: [] });
    expect(await again.load('2')).toEqual({ params: [], metrics: ['rmse'] });
    expect(await again.load('3')).toBeNull();
    expect(await new ColumnChoices(null).load('1')).toBeNull();
  });
});

describe('parallelCoordinates', () => {
  it('draws the recorded comparison: swept params, then the metric, with the server labels', () => {
    const comparison = compareAnswer();
    expect(sweptParams(comparison)).toEqual(['lr']);
    const data = parallelCoordinates(comparison, ['lr'], 'acc');
    expect(data.axes.map(a => `${a.kind}.${a.name}`)).toEqual([
      'param.lr',
      'metric.acc'
    ]);
    expect(data.axes[0].ticks).toEqual([
      { position: 0, label: '0.1' },
      { position: 1, label: '0.2' }
    ]);
    expect(data.lines.map(l => [l.label, l.positions, l.metricText])).toEqual([
      ['alpha (<run8:alpha>)', [0, 0], '0.8'],
      ['beta (<run8:beta>)', [1, 1], '0.9']
    ]);
  });

  it('spreads text params as categories and leaves out runs without the metric', () => {
    const comparison: Comparison = {
      histories: [],
      runs: ['a', 'b', 'c'].map(name => ({
        experiment_id: '1',
        run_id: name,
        run_name: name,
        label: `${name} (${name})`
      })),
      rows: [
        {
          kind: 'param',
          name: 'kernel',
          key: 'params.kernel',
          differs: true,
          values: ['rbf', 'linear', 'rbf']
        },
        {
          kind: 'metric',
          name: 'acc',
          key: 'metrics.acc',
          differs: true,
          values: [0.5, null, 0.5]
        }
      ]
    };
    const data = parallelCoordinates(comparison, ['kernel'], 'acc');
    expect(data.lines.map(l => l.runId)).toEqual(['a', 'c']);
    // One category left (rbf) and one metric value: both sit mid-axis.
    expect(data.lines[0].positions).toEqual([0.5, 0.5]);
    expect(data.axes[0].ticks).toEqual([{ position: 0.5, label: 'rbf' }]);
    expect(parallelCoordinates(comparison, ['kernel'], 'missing')).toEqual({
      axes: [],
      lines: []
    });
  });
});

describe("fetching a run's children", () => {
  const trans = nullTranslator.load('mlops_lab');

  it("asks the server for the runs tagged with the parent's id in the experiment shown", async () => {
    const api = new FakeApi();
    const kids = [child('a', 'p1'), child('b', 'p1')];
    api.onRuns = async query =>
      query.filter ? makePage(kids) : makePage([makeRun('p1')]);
    const model = new RunsModel({ api, trans });
    await model.loadExperiments();
    const answer = await model.fetchChildren('p1');
    expect(answer).toEqual({ status: 'ready', value: kids });
    const query = api.queries[api.queries.length - 1];
    expect(query.filter).toBe("tags.`mlflow.parentRunId` = 'p1'");
    expect(query.experiment).toBe(model.state.experimentId);
    expect(childrenFilter("it's")).toBe("tags.`mlflow.parentRunId` = 'it''s'");
  });

  it("gives the server's message when it refuses, without rejecting", async () => {
    const api = new FakeApi();
    const model = new RunsModel({ api, trans });
    await model.loadExperiments();
    api.onRuns = async () => {
      throw recordedError('runs_bad_filter');
    };
    const answer = await model.fetchChildren('p1');
    expect(answer.status).toBe('failed');
  });
});
