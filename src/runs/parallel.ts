/**
 * The data of the parallel-coordinates chart: a sweep's params against a metric.
 *
 * One vertical axis per param and one for the metric; each compared run is a line
 * across them. Each axis is scaled to 0..1 on its own (numbers by their range,
 * other values by their first-seen order), so axes of different units share the
 * chart. Built from the server's comparison only, with its labels.
 */
import type { Comparison } from '../api/types';

/** One axis: a param or the metric, and how its positions read. */
export interface IAxis {
  kind: 'param' | 'metric';
  name: string;
  /** The tick labels from the bottom (0) to the top (1). */
  ticks: { position: number; label: string }[];
}

/** One run's line: a position in 0..1 on each axis, `null` where it has no value. */
export interface IParallelLine {
  runId: string;
  label: string;
  positions: (number | null)[];
  /** The metric's value as a text, for the line's label. */
  metricText: string;
}

export interface IParallelData {
  axes: IAxis[];
  lines: IParallelLine[];
}

/** The params whose values differ across the compared runs: a sweep's axes. */
export function sweptParams(comparison: Comparison): string[] {
  return comparison.rows
    .filter(row => row.kind === 'param' && row.differs)
    .map(row => row.name);
}

function asNumber(value: string | number | null): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : null;
  }
  if (value === null || value.trim() === '') {
    return null;
  }
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function shortNumber(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** Positions (0..1) of one row's values, and the axis ticks that explain them. */
function scaleAxis(values: (string | number | null)[]): {
  positions: (number | null)[];
  ticks: IAxis['ticks'];
} {
  const present = values.filter(v => v !== null) as (string | number)[];
  const numeric = present.every(v => asNumber(v) !== null);
  if (numeric) {
    const numbers = present.map(v => asNumber(v) as number);
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    const span = max - min;
    const position = (n: number): number =>
      span === 0 ? 0.5 : (n - min) / span;
    const ticks =
      numbers.length === 0
        ? []
        : span === 0
          ? [{ position: 0.5, label: shortNumber(min) }]
          : [
              { position: 0, label: shortNumber(min) },
              { position: 1, label: shortNumber(max) }
            ];
    return {
      positions: values.map(v => {
        const n = v === null ? null : asNumber(v);
        return n === null ? null : position(n);
      }),
      ticks
    };
  }
  const categories: string[] = [];
  for (const value of present) {
    if (!categories.includes(String(value))) {
      categories.push(String(value));
    }
  }
  const position = (index: number): number =>
    categories.length === 1 ? 0.5 : index / (categories.length - 1);
  return {
    positions: values.map(v =>
      v === null ? null : position(categories.indexOf(String(v)))
    ),
    ticks: categories.map((label, index) => ({
      position: position(index),
      label
    }))
  };
}

/**
 * Axes for the params (in the order given) then the metric, and a line per run
 * that has the metric; runs without it are left out rather than drawn at zero.
 */
export function parallelCoordinates(
  comparison: Comparison,
  params: readonly string[],
  metric: string
): IParallelData {
  const metricRow = comparison.rows.find(
    row => row.kind === 'metric' && row.name === metric
  );
  if (!metricRow) {
    return { axes: [], lines: [] };
  }
  const kept = comparison.runs
    .map((run, index) => ({ run, index }))
    .filter(({ index }) => asNumber(metricRow.values[index]) !== null);
  const rows = [
    ...params.flatMap(name => {
      const row = comparison.rows.find(
        r => r.kind === 'param' && r.name === name
      );
      return row ? [row] : [];
    }),
    metricRow
  ];
  const scaled = rows.map(row =>
    scaleAxis(kept.map(({ index }) => row.values[index]))
  );
  return {
    axes: rows.map((row, i) => ({
      kind: row.kind,
      name: row.name,
      ticks: scaled[i].ticks
    })),
    lines: kept.map(({ run, index }, k) => ({
      runId: run.run_id,
      label: run.label,
      positions: scaled.map(axis => axis.positions[k]),
      metricText: shortNumber(asNumber(metricRow.values[index]) as number)
    }))
  };
}
