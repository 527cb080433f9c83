/**
 * The data of the compare chart, read from the server's comparison.
 *
 * The server compares the runs once for every face (labels, rows, histories);
 * these pure functions only pick what a chart draws, so the chart component
 * draws what they return and nothing it computed on its own.
 */
import type { Comparison, ComparisonRow } from '../api/types';

/** One bar of "metric by run". */
export interface IBar {
  runId: string;
  /** The server's label, "name (8-char id)". */
  label: string;
  value: number;
}

/** The names of the compared params or metrics, as the server orders them. */
export function rowNames(
  comparison: Comparison,
  kind: ComparisonRow['kind']
): string[] {
  return comparison.rows.filter(row => row.kind === kind).map(row => row.name);
}

function rowOf(
  comparison: Comparison,
  kind: ComparisonRow['kind'],
  name: string
): ComparisonRow | undefined {
  return comparison.rows.find(row => row.kind === kind && row.name === name);
}

/**
 * One bar per run holding the metric, in the order of the comparison's runs.
 *
 * Runs without the metric (null: missing, or NaN/infinite on the server) are
 * left out rather than drawn as zero.
 */
export function metricByRun(comparison: Comparison, metric: string): IBar[] {
  const row = rowOf(comparison, 'metric', metric);
  const bars: IBar[] = [];
  if (!row) {
    return bars;
  }
  comparison.runs.forEach((run, index) => {
    const value = row.values[index];
    if (typeof value === 'number' && Number.isFinite(value)) {
      bars.push({ runId: run.run_id, label: run.label, value });
    }
  });
  return bars;
}

/** One point of "metric against a param". */
export interface IPoint {
  runId: string;
  label: string;
  /** The param as a number, or the index of its value in `categories`. */
  x: number;
  y: number;
  /** The param's value as logged. */
  param: string;
}

/** The points of "metric against a param" and how to read the x axis. */
export interface IScatter {
  points: IPoint[];
  /**
   * The distinct param values in first-seen order when one of them is not a
   * number (then `x` indexes this list); empty when every value is numeric.
   */
  categories: string[];
}

/**
 * One point per run holding both the param and the metric.
 *
 * Params are strings in MLflow: when every value parses as a number the x axis
 * is numeric, otherwise each distinct value gets a category.
 */
export function metricAgainstParam(
  comparison: Comparison,
  metric: string,
  param: string
): IScatter {
  const metricRow = rowOf(comparison, 'metric', metric);
  const paramRow = rowOf(comparison, 'param', param);
  if (!metricRow || !paramRow) {
    return { points: [], categories: [] };
  }
  const kept: { runId: string; label: string; y: number; param: string }[] = [];
  comparison.runs.forEach((run, index) => {
    const y = metricRow.values[index];
    const value = paramRow.values[index];
    if (
      typeof y === 'number' &&
      Number.isFinite(y) &&
      typeof value === 'string'
    ) {
      kept.push({ runId: run.run_id, label: run.label, y, param: value });
    }
  });
  const numeric = kept.every(item => parseNumber(item.param) !== null);
  const categories: string[] = [];
  const points = kept.map(item => {
    let x: number;
    if (numeric) {
      x = parseNumber(item.param) as number;
    } else {
      x = categories.indexOf(item.param);
      if (x < 0) {
        x = categories.push(item.param) - 1;
      }
    }
    return { ...item, x };
  });
  return { points, categories: numeric ? [] : categories };
}

function parseNumber(text: string): number | null {
  if (text.trim() === '') {
    return null;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** One run's line in "metric over steps". */
export interface ILine {
  runId: string;
  label: string;
  points: { x: number; y: number }[];
}

/** The metrics the server sent histories for (logged at more than one step). */
export function historyMetrics(comparison: Comparison): string[] {
  return comparison.histories.map(history => history.metric);
}

/**
 * One line per run through the metric's logged steps; steps without a finite
 * value (null on the server) are left out rather than drawn as zero.
 */
export function metricHistory(comparison: Comparison, metric: string): ILine[] {
  const history = comparison.histories.find(h => h.metric === metric);
  if (!history) {
    return [];
  }
  return history.series.map(series => ({
    runId: series.run_id,
    label: series.label,
    points: series.points
      .filter(
        (point): point is { step: number; value: number } =>
          typeof point.value === 'number' && Number.isFinite(point.value)
      )
      .map(point => ({ x: point.step, y: point.value }))
  }));
}
