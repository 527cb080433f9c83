/**
 * The explorer's data: child runs nested under their parent on the page, the
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
import { nestRuns } from '../runs/nesting';
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

describe('nestRuns', () => {
  it('puts children under their parent when both are on the page', () => {
    const parent = makeRun('notebook');
    const other = makeRun('other');
    const a = child('a', parent);
    const b = child('b', parent);
    // Newest first: the children come before their parent on the page.
    const rows = nestRuns([a, other, b, parent]);
    expect(rows.map(r => r.run.run_name)).toEqual(['other', 'notebook']);
    expect(rows[1].children.map(r => r.run_name)).toEqual(['a', 'b']);
    expect(rows.every(r => r.orphanOf === null)).toBe(true);
  });

  it('keeps a child whose parent is not on the page as a row with its parent id', () => {
    const orphan = child('lost', '0123456789abcdef');
    const rows = nestRuns([makeRun('x'), orphan]);
    expect(rows.map(r => r.run.run_name)).toEqual(['x', 'lost']);
    expect(rows[1].orphanOf).toBe('0123456789abcdef');
    expect(rows[1].children).toEqual([]);
  });

  it('loses no run of the page', () => {
    const top = makeRun('top');
    const mid = child('mid', top);
    const low = child('low', mid);
    const rows = nestRuns([low, mid, top]);
    const shown = rows.flatMap(r => [r.run, ...r.children]);
    expect(new Set(shown.map(r => r.run_name))).toEqual(
      new Set(['top', 'mid', 'low'])
    );
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
