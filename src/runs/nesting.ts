/**
 * Child runs under their notebook run, for the explorer's table.
 *
 * A page of `GET /runs` holds parents and children mixed, in the server's order.
 * A child whose parent is on the same page is shown under it; a child whose
 * parent is on another page (or filtered out) stays a row of its own with a hint
 * naming its parent, so no run disappears from the page.
 */
import type { RunSummary } from '../api/types';

/** One top-level row of the explorer: a run and the children of it on this page. */
export interface INestedRow {
  run: RunSummary;
  /** The children of `run` found on the page, in the page's order. */
  children: RunSummary[];
  /**
   * For a child whose parent is not on the page: the parent's run id, for the
   * "child of" hint; `null` otherwise.
   */
  orphanOf: string | null;
}

/**
 * Group a page's runs: parents keep the page's order, each with its children.
 *
 * Only one level is nested (a notebook run and its model fits); a grandchild
 * whose parent is itself a child stays under that child's row as a top-level
 * child would, never lost.
 */
export function nestRuns(runs: readonly RunSummary[]): INestedRow[] {
  const onPage = new Set(runs.map(run => run.run_id));
  const children = new Map<string, RunSummary[]>();
  for (const run of runs) {
    const parent = run.parent_run_id;
    if (parent && parent !== run.run_id && onPage.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(run);
      children.set(parent, list);
    }
  }
  const nested = new Set<string>();
  for (const list of children.values()) {
    for (const child of list) {
      nested.add(child.run_id);
    }
  }
  const rows: INestedRow[] = [];
  for (const run of runs) {
    if (nested.has(run.run_id) && !isNestedUnderNested(run, runs, nested)) {
      continue;
    }
    const parent = run.parent_run_id;
    rows.push({
      run,
      children: children.get(run.run_id) ?? [],
      orphanOf: parent && !onPage.has(parent) ? parent : null
    });
  }
  return rows;
}

/**
 * Whether a child's parent is itself a nested child: such a run is listed as a
 * row of its own (under the one level the table shows) rather than hidden twice.
 */
function isNestedUnderNested(
  run: RunSummary,
  runs: readonly RunSummary[],
  nested: ReadonlySet<string>
): boolean {
  const parent = runs.find(r => r.run_id === run.parent_run_id);
  return parent !== undefined && nested.has(parent.run_id);
}
