/**
 * How the Runs section writes times and numbers.
 */

/** A millisecond timestamp as local "YYYY-MM-DD HH:MM:SS", or '' for none. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '';
  }
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** A metric with at most 4 significant digits after the point, e.g. 0.9134. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(4)));
}

/**
 * A run's name in the runs table and its details: the name, else the 8-character
 * id prefix. (Comparisons carry the server's own label, the same in every face.)
 */
export function runLabel(run: {
  run_id: string;
  run_name: string | null;
}): string {
  return run.run_name || run.run_id.slice(0, 8);
}
