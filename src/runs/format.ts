/**
 * How the Runs section writes times, numbers and sizes.
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

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/**
 * A size in bytes with 3 significant digits and decimal units (1 MB = 1,000,000
 * bytes, as the server counts), e.g. 46231 -> "46.2 kB"; '' when unknown.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (
    bytes === null ||
    bytes === undefined ||
    !Number.isFinite(bytes) ||
    bytes < 0
  ) {
    return '';
  }
  let value = bytes;
  let unit = 0;
  // Compare the rounded value, so 999,950 bytes reads "1 MB", not "1000 kB".
  while (unit < BYTE_UNITS.length - 1 && Number(value.toPrecision(3)) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  const shown = unit === 0 ? value : Number(value.toPrecision(3));
  return `${shown} ${BYTE_UNITS[unit]}`;
}
