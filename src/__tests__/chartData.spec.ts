/**
 * The compare chart's data, read from the server's recorded comparison: bars
 * per run with the server's labels, points of a metric against a param.
 */
import type { Comparison } from '../api/types';
import {
  historyMetrics,
  metricAgainstParam,
  metricByRun,
  metricHistory,
  rowNames
} from '../runs/chartData';
import { compareAnswer } from './recorded';

/** The recorded comparison with a third run that lacks `acc` and has a text param. */
function withThirdRun(): Comparison {
  const comparison = compareAnswer();
  comparison.runs.push({
    run_id: '<run:bare>',
    run_name: 'bare',
    experiment_id: '1',
    label: 'bare (<run8:bare>)'
  });
  for (const row of comparison.rows) {
    row.values.push(row.name === 'lr' ? 'auto' : null);
  }
  return comparison;
}

describe('metricByRun', () => {
  it("gives one bar per run with the server's label, in the comparison's order", () => {
    expect(metricByRun(compareAnswer(), 'acc')).toEqual([
      { runId: '<run:alpha>', label: 'alpha (<run8:alpha>)', value: 0.8 },
      { runId: '<run:beta>', label: 'beta (<run8:beta>)', value: 0.9 }
    ]);
  });

  it('skips runs without the metric and unknown metrics', () => {
    expect(metricByRun(withThirdRun(), 'acc').map(bar => bar.runId)).toEqual([
      '<run:alpha>',
      '<run:beta>'
    ]);
    expect(metricByRun(compareAnswer(), 'f1')).toEqual([]);
  });
});

describe('metricAgainstParam', () => {
  it('plots numeric params on a numeric axis', () => {
    const scatter = metricAgainstParam(compareAnswer(), 'acc', 'lr');
    expect(scatter.categories).toEqual([]);
    expect(scatter.points.map(p => [p.label, p.x, p.y, p.param])).toEqual([
      ['alpha (<run8:alpha>)', 0.1, 0.8, '0.1'],
      ['beta (<run8:beta>)', 0.2, 0.9, '0.2']
    ]);
  });

  it('gives each distinct text value a category when one is not a number', () => {
    const comparison = withThirdRun();
    comparison.rows.find(r => r.name === 'acc')!.values[2] = 0.7;
    const scatter = metricAgainstParam(comparison, 'acc', 'lr');
    expect(scatter.categories).toEqual(['0.1', '0.2', 'auto']);
    expect(scatter.points.map(p => p.x)).toEqual([0, 1, 2]);
  });

  it('has no points when a row is missing', () => {
    expect(metricAgainstParam(compareAnswer(), 'acc', 'nope').points).toEqual(
      []
    );
  });
});

describe('rowNames', () => {
  it("lists params and metrics in the server's order", () => {
    expect(rowNames(compareAnswer(), 'param')).toEqual(['epochs', 'lr']);
    expect(rowNames(compareAnswer(), 'metric')).toEqual(['acc']);
  });
});

describe('metricHistory', () => {
  it("draws one line per run through the server's history", () => {
    const comparison = compareAnswer();
    expect(historyMetrics(comparison)).toEqual(['acc']);
    expect(metricHistory(comparison, 'acc')).toEqual([
      {
        runId: '<run:alpha>',
        label: 'alpha (<run8:alpha>)',
        points: [
          { x: 0, y: 0.5 },
          { x: 1, y: 0.8 }
        ]
      },
      {
        runId: '<run:beta>',
        label: 'beta (<run8:beta>)',
        points: [
          { x: 0, y: 0.6 },
          { x: 1, y: 0.9 }
        ]
      }
    ]);
  });

  it('leaves out steps without a value, and metrics without a history', () => {
    const comparison = compareAnswer();
    comparison.histories[0].series[0].points[0].value = null;
    expect(metricHistory(comparison, 'acc')[0].points).toEqual([
      { x: 1, y: 0.8 }
    ]);
    expect(metricHistory(comparison, 'loss')).toEqual([]);
  });
});
