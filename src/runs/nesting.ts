/**
 * The runs of a page as a tree, for the explorer's table: a notebook run, the
 * model runs of its fits under it, a parameter search's candidates under the
 * search run, and so on to any depth.
 *
 * A page of `GET /runs` holds parents and children mixed, in the server's order.
 * A run whose parent is on the same page is shown under it; a run whose parent
 * is on another page (or filtered out) stays a top-level row with a hint naming
 * its parent, so no run disappears from the page. MLflow does not forbid a run
 * naming itself, or a run of a loop, as its parent: such runs are still shown,
 * each once.
 */
import type { RunSummary } from '../api/types';

/** One run of the page and the runs nested under it on this page. */
export interface IRunNode {
  run: RunSummary;
  /** The runs under `run` found on the page, in the page's order. */
  children: IRunNode[];
  /**
   * For a top-level run whose parent is not shown above it (not on the page, or
   * part of a loop of parents): the parent's run id, for the "child of" hint;
   * `null` otherwise.
   */
  orphanOf: string | null;
}

/**
 * Build the page's tree: the top-level rows keep the page's order, and so do
 * the children of each run.
 *
 * Every run of the page appears exactly once. Runs caught in a loop of parents
 * (a -> b -> a), which no top-level run leads to, become top-level rows in the
 * page's order, the loop cut where it would come back.
 */
export function nestRuns(runs: readonly RunSummary[]): IRunNode[] {
  const byId = new Map<string, RunSummary>();
  for (const run of runs) {
    if (!byId.has(run.run_id)) {
      byId.set(run.run_id, run);
    }
  }
  const unique = [...byId.values()];
  const parentOnPage = (run: RunSummary): string | null => {
    const parent = run.parent_run_id;
    return parent && parent !== run.run_id && byId.has(parent) ? parent : null;
  };
  const childrenOf = new Map<string, RunSummary[]>();
  for (const run of unique) {
    const parent = parentOnPage(run);
    if (parent !== null) {
      const list = childrenOf.get(parent) ?? [];
      list.push(run);
      childrenOf.set(parent, list);
    }
  }

  const placed = new Set<string>();
  // Depth-first with an explicit stack: a long chain of parents cannot
  // overflow the call stack.
  const grow = (run: RunSummary, orphanOf: string | null): IRunNode => {
    const root: IRunNode = { run, children: [], orphanOf };
    placed.add(run.run_id);
    const stack: IRunNode[] = [root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (const child of childrenOf.get(node.run.run_id) ?? []) {
        if (placed.has(child.run_id)) {
          continue;
        }
        placed.add(child.run_id);
        const childNode: IRunNode = {
          run: child,
          children: [],
          orphanOf: null
        };
        node.children.push(childNode);
        stack.push(childNode);
      }
    }
    return root;
  };

  const roots: IRunNode[] = [];
  for (const run of unique) {
    if (parentOnPage(run) === null) {
      const parent = run.parent_run_id;
      roots.push(grow(run, parent && parent !== run.run_id ? parent : null));
    }
  }
  // What is left sits on a loop of parents (or under one): shown at the top,
  // in the page's order, at the place it has on the page.
  if (placed.size < unique.length) {
    const order = new Map(unique.map((run, index) => [run.run_id, index]));
    for (const run of unique) {
      if (!placed.has(run.run_id)) {
        roots.push(grow(run, run.parent_run_id));
      }
    }
    roots.sort((a, b) => order.get(a.run.run_id)! - order.get(b.run.run_id)!);
  }
  return roots;
}

/** Every node of the trees by its run id, to find a run's children on the page. */
export function nodesById(roots: readonly IRunNode[]): Map<string, IRunNode> {
  const found = new Map<string, IRunNode>();
  const stack = [...roots];
  while (stack.length > 0) {
    const node = stack.pop()!;
    found.set(node.run.run_id, node);
    stack.push(...node.children);
  }
  return found;
}
