/**
 * The compare chart's data: bars per run, points of a metric against a param.
 */
import {
  keysOf,
  metricAgainstParam,
  metricByRun,
  runLabel
} from '../runs/chartData';
import { makeRun } from './fakeApi';

const runs = [
  makeRun('a', { C: '0.1', kernel: 'rbf' }, { accuracy: 0.8, loss: 0.2 }),
  makeRun('b', { C: '10', kernel: 'linear' }, { accuracy: 0.9 }),
  makeRun('c', { kernel: 'rbf' }, { accuracy: 0.7, loss: 0.3 }),
  makeRun('d', { C: '1' }, { loss: Number.NaN })
];

describe('metricByRun', () => {
  it('gives one bar per run with the metric, in order', () => {
    expect(metricByRun(runs, 'accuracy')).toEqual([
      { runId: 'id-a', label: 'a', value: 0.8 },
      { runId: 'id-b', label: 'b', value: 0.9 },
      { runId: 'id-c', label: 'c', value: 0.7 }
    ]);
  });

  it('skips runs without the metric or with a value that is not finite', () => {
    expect(metricByRun(runs, 'loss').map(bar => bar.label)).toEqual(['a', 'c']);
    expect(metricByRun(runs, 'f1')).toEqual([]);
  });
});

describe('metricAgainstParam', () => {
  it('plots numeric params on a numeric axis, skipping runs missing one', () => {
    const scatter = metricAgainstParam(runs, 'accuracy', 'C');
    expect(scatter.categories).toEqual([]);
    expect(scatter.points).toEqual([
      { runId: 'id-a', label: 'a', x: 0.1, y: 0.8, param: '0.1' },
      { runId: 'id-b', label: 'b', x: 10, y: 0.9, param: '10' }
    ]);
  });

  it('gives each distinct text value a category in first-seen order', () => {
    const scatter = metricAgainstParam(runs, 'accuracy', 'kernel');
    expect(scatter.categories).toEqual(['rbf', 'linear']);
    expect(scatter.points.map(p => [p.label, p.x, p.y])).toEqual([
      ['a', 0, 0.8],
      ['b', 1, 0.9],
      ['c', 0, 0.7]
    ]);
  });

  it('has no points when no run has both', () => {
    expect(metricAgainstParam(runs, 'loss', 'missing').points).toEqual([]);
  });
});

describe('labels and keys', () => {
  it('labels a run by name, else by its short id', () => {
    expect(runLabel({ run_id: '0123456789abcdef', run_name: null })).toBe(
      '01234567'
    );
    expect(runLabel({ run_id: '0123456789abcdef', run_name: 'best' })).toBe(
      'best'
    );
  });

  it('lists the keys of the selected runs, sorted', () => {
    expect(keysOf(runs, 'metrics')).toEqual(['accuracy', 'loss']);
    expect(keysOf(runs, 'params')).toEqual(['C', 'kernel']);
  });
});
