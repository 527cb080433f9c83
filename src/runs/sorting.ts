/**
 * Sorting the runs table by a param or metric column, through the server.
 */

/** Which kind of column a key belongs to, as in MLflow's `metrics.x` / `params.x`. */
export type ColumnKind = 'metrics' | 'params';

export type SortDirection = 'ASC' | 'DESC';

/** The sort in effect. */
export interface ISort {
  kind: ColumnKind;
  key: string;
  direction: SortDirection;
}

/**
 * The sort after a click on a column header.
 *
 * A new column sorts metrics from the highest (what one usually looks for) and
 * params from the lowest; clicking the sorted column again flips the direction.
 */
export function toggleSort(
  current: ISort | null,
  kind: ColumnKind,
  key: string
): ISort {
  if (current && current.kind === kind && current.key === key) {
    return {
      kind,
      key,
      direction: current.direction === 'ASC' ? 'DESC' : 'ASC'
    };
  }
  return { kind, key, direction: kind === 'metrics' ? 'DESC' : 'ASC' };
}

/**
 * The MLflow `order_by` clause of a sort, e.g. `metrics.accuracy DESC`.
 *
 * Keys that are not plain identifiers are quoted with backticks, as MLflow's
 * search syntax wants (`params.\`model.C\` ASC`).
 */
export function orderByClause(sort: ISort | null): string | undefined {
  if (!sort) {
    return undefined;
  }
  const key = /^[A-Za-z_][A-Za-z0-9_]*$/.test(sort.key)
    ? sort.key
    : `\`${sort.key.replace(/`/g, '')}\``;
  return `${sort.kind}.${key} ${sort.direction}`;
}

/** The arrow shown next to a sorted column's name, or '' for an unsorted one. */
export function sortIndicator(
  sort: ISort | null,
  kind: ColumnKind,
  key: string
): '' | '▲' | '▼' {
  if (!sort || sort.kind !== kind || sort.key !== key) {
    return '';
  }
  return sort.direction === 'ASC' ? '▲' : '▼';
}
