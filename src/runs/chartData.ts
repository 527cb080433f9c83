/**
 * The data of the compare chart, prepared from the selected runs.
 *
 * Pure functions: the chart component only draws what these return.
 */
import type { RunSummary } from '../api/types';

/** The label of a run on a chart or in a list: its name, else its short id. */
export function runLabel(run: Pick<RunSummary, 'run_id' | 'run_name'>): string {
  return run.run_name || run.run_id.slice(0, 8);
}

/** One bar of "metric by run". */
export interface IBar {
  runId: string;
  label: string;
  value: number;
}

/**
 * One bar per run holding the metric, in the order of `runs`.
 *
 * Runs without the metric (or with a value that is not finite) are left out
 * rather than drawn as zero.
 */
export function metricByRun(runs: RunSummary[], metric: string): IBar[] {
  const bars: IBar[] = [];
  for (const run of runs) {
    const value = run.metrics[metric];
    if (typeof value === 'number' && Number.isFinite(value)) {
      bars.push({ runId: run.run_id, label: runLabel(run), value });
    }
  }
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
  runs: RunSummary[],
  metric: string,
  param: string
): IScatter {
  const kept: { run: RunSummary; y: number; param: string }[] = [];
  for (const run of runs) {
    const y = run.metrics[metric];
    const value = run.params[param];
    if (
      typeof y === 'number' &&
      Number.isFinite(y) &&
      typeof value === 'string'
    ) {
      kept.push({ run, y, param: value });
    }
  }
  const numeric = kept.every(item => parseNumber(item.param) !== null);
  const categories: string[] = [];
  const points = kept.map(({ run, y, param: value }) => {
    let x: number;
    if (numeric) {
      x = parseNumber(value) as number;
    } else {
      x = categories.indexOf(value);
      if (x < 0) {
        x = categories.push(value) - 1;
      }
    }
    return { runId: run.run_id, label: runLabel(run), x, y, param: value };
  });
  return { points, categories: numeric ? [] : categories };
}

/** The keys present in at least one of `runs`, sorted. */
export function keysOf(
  runs: RunSummary[],
  field: 'metrics' | 'params'
): string[] {
  const keys = new Set<string>();
  for (const run of runs) {
    for (const key of Object.keys(run[field])) {
      keys.add(key);
    }
  }
  return [...keys].sort();
}

function parseNumber(text: string): number | null {
  if (text.trim() === '') {
    return null;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}
