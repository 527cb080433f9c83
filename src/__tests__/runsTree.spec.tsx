/**
 * The explorer's table as a tree: a notebook run, its model runs, a search's
 * candidates, each level collapsed until its run is expanded, the children
 * fetched from the server replacing the page's own, and selection and details
 * working on any level.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import React from 'react';

import type { RunSummary } from '../api/types';
import { RunsExplorer } from '../explorer/RunsExplorer';
import { ColumnChoices } from '../runs/columns';
import { childrenFilter, RunsModel } from '../runs/model';
import type { IRunsQuery } from '../tokens';
import { FakeApi, makePage, makeRun } from './fakeApi';
import { render, waitFor } from './view';

const trans = nullTranslator.load('mlops_lab');

/** Wait for `check`, naming the rows shown when it never holds. */
function waitForRows(check: () => boolean): Promise<void> {
  return waitFor(
    check,
    () => `the table to render: ${shownRows(document.body).join(', ')}`
  );
}

function child(
  name: string,
  parent: RunSummary,
  metrics: Record<string, number> = {}
): RunSummary {
  return { ...makeRun(name, {}, metrics), parent_run_id: parent.run_id };
}

const notebook = makeRun('notebook', {}, { accuracy: 0.9 });
const forest = child('RandomForestClassifier-1', notebook, { accuracy: 0.8 });
const search = child('GridSearchCV-1', notebook, { best_cv_score: 0.85 });
const candidates = [1, 2, 3].map(i =>
  child(`GridSearchCV-1-candidate-${i}`, search, {
    mean_test_score: 0.9 - i / 100
  })
);
const baseline = makeRun('baseline', {}, { accuracy: 0.5 });

/** The server: the page given, and each run's children by `childrenFilter`. */
function serve(api: FakeApi, page: RunSummary[], all: RunSummary[]): void {
  api.onRuns = async (query: IRunsQuery) => {
    const parent = all.find(run => query.filter === childrenFilter(run.run_id));
    if (parent) {
      return makePage(all.filter(run => run.parent_run_id === parent.run_id));
    }
    return makePage(page);
  };
}

/** Each shown row as "depth name", the way the table reads top to bottom. */
function shownRows(node: HTMLElement): string[] {
  return Array.from(
    node.querySelectorAll<HTMLElement>('.jp-MlopsLab-runRow')
  ).map(
    row =>
      `${row.dataset.depth} ${row.querySelector('.jp-MlopsLab-linkButton')?.textContent}`
  );
}

function rowOf(node: HTMLElement, name: string): HTMLElement {
  const row = Array.from(
    node.querySelectorAll<HTMLElement>('.jp-MlopsLab-runRow')
  ).find(r => r.querySelector('.jp-MlopsLab-linkButton')?.textContent === name);
  if (!row) {
    throw new Error(`No row for ${name}: ${shownRows(node).join(', ')}`);
  }
  return row;
}

function toggleOf(node: HTMLElement, name: string): HTMLButtonElement {
  return rowOf(node, name).querySelector<HTMLButtonElement>(
    '.jp-MlopsLab-expand'
  )!;
}

describe('the Runs explorer as a tree', () => {
  let widget: Widget | null = null;
  let model: RunsModel | null = null;
  afterEach(() => {
    widget?.dispose();
    model?.dispose();
    widget = null;
    model = null;
  });

  function mount(api: FakeApi): HTMLElement {
    model = new RunsModel({ api, trans });
    widget = render(
      <RunsExplorer
        model={model}
        columns={new ColumnChoices(null)}
        trans={trans}
      />
    );
    return widget.node;
  }

  it('expands a notebook run, then its search run, one level at a time', async () => {
    const api = new FakeApi();
    const all = [
      baseline,
      candidates[2],
      forest,
      search,
      ...candidates.slice(0, 2),
      notebook
    ];
    serve(api, all, all);
    const node = mount(api);
    await waitForRows(() => shownRows(node).length === 2);
    // Collapsed: the notebook runs only, with how many children the page holds.
    expect(shownRows(node)).toEqual(['0 baseline', '0 notebook']);
    expect(toggleOf(node, 'notebook').getAttribute('aria-expanded')).toBe(
      'false'
    );
    expect(
      rowOf(node, 'notebook').querySelector('.jp-MlopsLab-childCount')
        ?.textContent
    ).toBe('2 children');

    toggleOf(node, 'notebook').click();
    await waitForRows(() => shownRows(node).length === 4);
    // The model runs, one level in; the server's order once fetched.
    expect(shownRows(node)).toEqual([
      '0 baseline',
      '0 notebook',
      '1 RandomForestClassifier-1',
      '1 GridSearchCV-1'
    ]);
    expect(toggleOf(node, 'notebook').getAttribute('aria-expanded')).toBe(
      'true'
    );
    expect(toggleOf(node, 'notebook').getAttribute('aria-label')).toBe(
      'Hide the child runs of notebook'
    );
    // The search run is collapsed until asked, and says what it holds.
    expect(toggleOf(node, 'GridSearchCV-1').getAttribute('aria-expanded')).toBe(
      'false'
    );
    expect(
      rowOf(node, 'GridSearchCV-1').querySelector('.jp-MlopsLab-childCount')
        ?.textContent
    ).toBe('3 children');
    expect(rowOf(node, 'GridSearchCV-1').classList).toContain(
      'jp-MlopsLab-childRow'
    );

    toggleOf(node, 'GridSearchCV-1').click();
    await waitForRows(() => shownRows(node).length === 7);
    expect(shownRows(node)).toEqual([
      '0 baseline',
      '0 notebook',
      '1 RandomForestClassifier-1',
      '1 GridSearchCV-1',
      // In the server's order, as it sent them.
      '2 GridSearchCV-1-candidate-3',
      '2 GridSearchCV-1-candidate-1',
      '2 GridSearchCV-1-candidate-2'
    ]);
    // Each level one step further right (the CSS reads the depth).
    expect(
      rowOf(node, 'GridSearchCV-1-candidate-1').style.getPropertyValue(
        '--jp-MlopsLab-depth'
      )
    ).toBe('2');
    expect(api.queries.map(q => q.filter).slice(-2)).toEqual([
      childrenFilter(notebook.run_id),
      childrenFilter(search.run_id)
    ]);

    // Collapsing the notebook run hides both levels under it.
    toggleOf(node, 'notebook').click();
    await waitForRows(() => shownRows(node).length === 2);
    expect(shownRows(node)).toEqual(['0 baseline', '0 notebook']);
  });

  it('selects and opens a candidate like any run', async () => {
    const api = new FakeApi();
    const all = [notebook, search, ...candidates];
    serve(api, all, all);
    const node = mount(api);
    await waitForRows(() => shownRows(node).length === 1);
    toggleOf(node, 'notebook').click();
    await waitForRows(() => shownRows(node).length === 2);
    toggleOf(node, 'GridSearchCV-1').click();
    await waitForRows(() => shownRows(node).length === 5);

    rowOf(node, 'GridSearchCV-1-candidate-2')
      .querySelector<HTMLInputElement>('.jp-MlopsLab-selectRun')!
      .click();
    await waitForRows(() => model!.state.selected.length === 1);
    expect(model!.state.selected[0].run_id).toBe(candidates[1].run_id);
    expect(
      rowOf(node, 'GridSearchCV-1-candidate-2').getAttribute('aria-selected')
    ).toBe('true');

    rowOf(node, 'GridSearchCV-1-candidate-3')
      .querySelector<HTMLButtonElement>('.jp-MlopsLab-linkButton')!
      .click();
    await waitForRows(() => model!.state.detail !== null);
    expect(model!.state.detail?.runId).toBe(candidates[2].run_id);
  });

  it("fetches a search run's candidates when the page does not hold them", async () => {
    const api = new FakeApi();
    // Only the notebook run on the page (e.g. a filter): both levels come from
    // the server as they are expanded.
    serve(api, [notebook], [notebook, forest, search, ...candidates]);
    const node = mount(api);
    await waitForRows(() => shownRows(node).length === 1);
    expect(
      rowOf(node, 'notebook').querySelector('.jp-MlopsLab-childCount')
    ).toBeNull();
    toggleOf(node, 'notebook').click();
    await waitForRows(() => shownRows(node).length === 3);
    toggleOf(node, 'GridSearchCV-1').click();
    await waitForRows(() => shownRows(node).length === 6);
    expect(shownRows(node).slice(3)).toEqual([
      '2 GridSearchCV-1-candidate-1',
      '2 GridSearchCV-1-candidate-2',
      '2 GridSearchCV-1-candidate-3'
    ]);
    // A candidate has no children: expanding it says so, under it.
    toggleOf(node, 'GridSearchCV-1-candidate-1').click();
    await waitForRows(
      () => node.querySelector('.jp-MlopsLab-childNote') !== null
    );
    const note = node.querySelector<HTMLElement>('.jp-MlopsLab-childNote')!;
    expect(note.textContent).toBe('No child runs.');
    expect(note.dataset.depth).toBe('3');
    expect((note.previousElementSibling as HTMLElement).dataset.runId).toBe(
      candidates[0].run_id
    );
  });

  it('shows a run whose parent is not on the page at the top, naming its parent', async () => {
    const api = new FakeApi();
    const page = [candidates[0], search];
    serve(api, page, page);
    const node = mount(api);
    await waitForRows(() => shownRows(node).length === 1);
    expect(shownRows(node)).toEqual(['0 GridSearchCV-1']);
    expect(
      rowOf(node, 'GridSearchCV-1').querySelector('.jp-MlopsLab-childOf')
        ?.textContent
    ).toBe(`child of ${notebook.run_id.slice(0, 8)}`);
    toggleOf(node, 'GridSearchCV-1').click();
    await waitForRows(() => shownRows(node).length === 2);
    expect(shownRows(node)).toEqual([
      '0 GridSearchCV-1',
      '1 GridSearchCV-1-candidate-1'
    ]);
  });

  it('never shows a run inside itself when the server answers with a loop', async () => {
    const api = new FakeApi();
    const a = makeRun('a');
    const b = { ...makeRun('b'), parent_run_id: a.run_id };
    // The server (a broken store) names a as a child of b too.
    api.onRuns = async query =>
      query.filter === childrenFilter(a.run_id)
        ? makePage([b])
        : query.filter === childrenFilter(b.run_id)
          ? makePage([a])
          : makePage([a]);
    const node = mount(api);
    await waitForRows(() => shownRows(node).length === 1);
    toggleOf(node, 'a').click();
    await waitForRows(() => shownRows(node).length === 2);
    toggleOf(node, 'b').click();
    await waitForRows(
      () =>
        rowOf(node, 'b').querySelector('.jp-MlopsLab-childCount')
          ?.textContent === '1 child'
    );
    expect(shownRows(node)).toEqual(['0 a', '1 b']);
  });
});
