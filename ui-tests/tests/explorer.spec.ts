/**
 * The Runs explorer in the main area, against the sweep the test server's fixture
 * logged (`jupyter_server_test_config.py`): in `galata-sweep`, the notebook run
 * `sweep-notebook` with three child runs (`brave-owl-1`, `calm-fox-2`,
 * `dark-elk-3`, params alpha and depth, metrics rmse and r2) and `baseline`;
 * `dark-elk-3` logged a model of 46,231 bytes. In `galata-grid`, what per-fit
 * tracking leaves: the notebook run `grid-notebook`, its model runs
 * `RandomForestClassifier-1` and `GridSearchCV-1`, and under the search run its
 * candidates `GridSearchCV-1-candidate-1` to `-3`.
 *
 * Run with the sidebar at its default width and in a wide window.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { attachScreenshot } from './screenshots';

const SIDEBAR_ID = 'mlops-lab:sidebar';
const EXPLORER_ID = 'mlops-lab:runs-explorer';
const EXPERIMENT = 'galata-sweep';
const CHILDREN = ['dark-elk-3', 'calm-fox-2', 'brave-owl-1'];
const GRID_EXPERIMENT = 'galata-grid';
const CANDIDATES = [1, 2, 3].map(i => `GridSearchCV-1-candidate-${i}`);

/** Open the sidebar (default width), then the explorer from its button. */
async function openExplorer(
  page: IJupyterLabPageFixture,
  experiment = EXPERIMENT,
  topLevelRows = 2
): Promise<Locator> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
  });
  const panel = page.locator(`[id="${SIDEBAR_ID}"]`);
  const button = panel.locator('.jp-MlopsLab-openExplorer');
  // The button fits the sidebar at its default width.
  await expect(button).toBeInViewport({ ratio: 1 });
  await button.click();
  const explorer = page.locator(`[id="${EXPLORER_ID}"]`);
  await expect(explorer).toBeVisible();
  const picker = explorer.locator('select[aria-label="Experiment"]');
  await expect(picker).toBeVisible();
  await picker.selectOption({ label: experiment });
  await expect(explorer.locator('.jp-MlopsLab-runRow')).toHaveCount(
    topLevelRows
  );
  return explorer;
}

/** The names of the rows at one depth of the tree, sorted. */
async function namesAt(explorer: Locator, depth: number): Promise<string[]> {
  const names = await explorer
    .locator(
      `.jp-MlopsLab-runRow[data-depth="${depth}"] .jp-MlopsLab-linkButton`
    )
    .allTextContents();
  return names.sort();
}

/** Where a row's run name starts, in pixels from the left of the page. */
async function nameLeft(row: Locator): Promise<number> {
  const box = await row.locator('.jp-MlopsLab-linkButton').boundingBox();
  expect(box).not.toBeNull();
  return box!.x;
}

/** The row of the run named exactly `name` (not `GridSearchCV-1-candidate-1` for `GridSearchCV-1`). */
function row(explorer: Locator, name: string): Locator {
  const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return explorer.locator('.jp-MlopsLab-runRow', {
    has: explorer.page().locator('.jp-MlopsLab-linkButton', { hasText: exact })
  });
}

for (const [width, height] of [
  [1024, 768],
  [1800, 1000]
]) {
  test.describe(`Runs explorer at ${width}px`, () => {
    test.use({ viewport: { width, height } });

    test('nests child runs, picks columns and compares with labels', async ({
      page
    }, testInfo) => {
      const explorer = await openExplorer(page);

      // Collapsed: the notebook run says how many children it holds.
      const parent = row(explorer, 'sweep-notebook');
      await expect(parent.locator('.jp-MlopsLab-childCount')).toHaveText(
        '3 children'
      );
      await expect(explorer.locator('.jp-MlopsLab-childRow')).toHaveCount(0);
      // The status is not cut in the wide table.
      const status = parent.locator('.jp-MlopsLab-status');
      await expect(status).toHaveText('FINISHED');
      const fits = await status.evaluate(
        el => el.scrollWidth <= el.clientWidth + 1
      );
      expect(fits).toBe(true);

      // Expanded: the children follow their parent, indented.
      await parent.locator('.jp-MlopsLab-expand').click();
      const children = explorer.locator('.jp-MlopsLab-childRow');
      await expect(children).toHaveCount(3);
      await expect(
        explorer.locator('.jp-MlopsLab-runRow .jp-MlopsLab-linkButton')
      ).toHaveText(['baseline', 'sweep-notebook', ...CHILDREN]);
      await attachScreenshot(page, `explorer-nested-${width}`, testInfo);

      // The column picker hides r2; reopening the explorer remembers it.
      await expect(
        explorer.locator('th[data-column="metrics.r2"]')
      ).toHaveCount(1);
      await explorer.locator('.jp-MlopsLab-columnPicker summary').click();
      await explorer
        .locator('.jp-MlopsLab-columnPicker input[data-column="metrics.r2"]')
        .uncheck();
      await expect(
        explorer.locator('th[data-column="metrics.r2"]')
      ).toHaveCount(0);
      await expect(
        explorer.locator('td[data-column="metrics.r2"]')
      ).toHaveCount(0);
      await expect(
        explorer.locator('th[data-column="metrics.rmse"]')
      ).toHaveCount(1);
      await explorer.locator('.jp-MlopsLab-columnPicker summary').click();

      await page.evaluate(async id => {
        const widget = Array.from(window.jupyterapp.shell.widgets('main')).find(
          w => w.id === id
        );
        widget?.dispose();
      }, EXPLORER_ID);
      await expect(explorer).toHaveCount(0);
      const again = await openExplorer(page);
      await expect(again.locator('th[data-column="metrics.rmse"]')).toHaveCount(
        1
      );
      await expect(again.locator('th[data-column="metrics.r2"]')).toHaveCount(
        0
      );

      // Compare two children: a chart per shown metric with the server's labels
      // (name and short id) and the values written out, and parallel coordinates.
      await row(again, 'sweep-notebook').locator('.jp-MlopsLab-expand').click();
      for (const name of ['brave-owl-1', 'dark-elk-3']) {
        await row(again, name).locator('.jp-MlopsLab-selectRun').check();
      }
      const bars = again.locator(
        '.jp-MlopsLab-metricBarChart[data-metric="rmse"]'
      );
      await expect(bars.locator('.jp-MlopsLab-barLabel')).toHaveText([
        /^brave-owl-1 \([0-9a-f]{8}\)$/,
        /^dark-elk-3 \([0-9a-f]{8}\)$/
      ]);
      await expect(bars.locator('.jp-MlopsLab-barValue')).toHaveText([
        '0.42',
        '0.31'
      ]);
      await expect(
        again.locator('.jp-MlopsLab-metricBarChart[data-metric="r2"]')
      ).toHaveCount(0);

      const parallel = again.locator('.jp-MlopsLab-parallel');
      await expect(
        parallel.locator('.jp-MlopsLab-parallelAxis > text:first-of-type')
      ).toHaveText(['alpha', 'depth', 'r2']);
      await parallel
        .locator('select[aria-label="Metric of the parallel coordinates"]')
        .selectOption('rmse');
      await expect(
        parallel.locator('.jp-MlopsLab-parallelAxis > text:first-of-type')
      ).toHaveText(['alpha', 'depth', 'rmse']);
      await expect(parallel.locator('.jp-MlopsLab-parallelLine')).toHaveCount(
        2
      );
      await expect(parallel.locator('.jp-MlopsLab-parallelLabel')).toHaveText([
        /^brave-owl-1 \([0-9a-f]{8}\) · 0\.42$/,
        /^dark-elk-3 \([0-9a-f]{8}\) · 0\.31$/
      ]);
      // No step history was logged: the compare chart offers no history view.
      await expect(
        again.locator('.jp-MlopsLab-chartMode option[value="history"]')
      ).toHaveCount(0);

      // Details open beside the table (over its right side when the main area
      // is narrow), never below it, off screen.
      await row(again, 'dark-elk-3').locator('.jp-MlopsLab-linkButton').click();
      const side = again.locator('.jp-MlopsLab-explorerSide');
      await expect(side).toBeVisible();
      await expect(side.locator('.jp-MlopsLab-runDetails h3')).toBeInViewport();
      // The model the run logged, with its size.
      await expect(side.locator('.jp-MlopsLab-models tr')).toHaveText([
        /^model\s*46\.2 kB$/
      ]);
      const table = await again
        .locator('.jp-MlopsLab-explorerMain')
        .boundingBox();
      const details = await side.boundingBox();
      expect(table && details && details.y < table.y + 200).toBe(true);
      if (width >= 1400) {
        expect(details && table && details.x >= table.x + table.width - 1).toBe(
          true
        );
      }
      await attachScreenshot(page, `explorer-compare-${width}`, testInfo);
    });
  });
}

for (const [width, height] of [
  [1024, 768],
  [1800, 1000]
]) {
  test.describe(`Runs tree at ${width}px`, () => {
    test.use({ viewport: { width, height } });

    test('lists notebook runs in the sidebar and nests model runs and candidates level by level', async ({
      page
    }, testInfo) => {
      // The sidebar's list: the notebook run only, whole at the default width.
      await page.evaluate(async () => {
        await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
      });
      const sidebar = page.locator(`[id="${SIDEBAR_ID}"]`);
      const runs = sidebar.locator('.jp-MlopsLab-section-runs');
      await runs
        .locator('select[aria-label="Experiment"]')
        .selectOption({ label: GRID_EXPERIMENT });
      const recent = runs.locator('.jp-MlopsLab-recentRun');
      await expect(recent).toHaveCount(1);
      await expect(recent.locator('.jp-MlopsLab-recentName')).toHaveText(
        'grid-notebook'
      );
      await expect(recent).toBeInViewport({ ratio: 1 });
      // The name is not cut: it logged no metric, so it has the value's room.
      const name = recent.locator('.jp-MlopsLab-recentName');
      const [nameWidth, textWidth] = await name.evaluate(el => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return [
          el.getBoundingClientRect().width,
          range.getBoundingClientRect().width
        ];
      });
      expect(textWidth).toBeLessThanOrEqual(nameWidth);
      await attachScreenshot(sidebar, `sidebar-notebook-runs-${width}`, testInfo);

      // The explorer: the notebook run alone, collapsed.
      const explorer = await openExplorer(page, GRID_EXPERIMENT, 1);
      const notebook = row(explorer, 'grid-notebook');
      const toggle = notebook.locator('.jp-MlopsLab-expand');
      await expect(toggle).toHaveAttribute('aria-expanded', 'false');
      await expect(notebook.locator('.jp-MlopsLab-childCount')).toHaveText(
        '2 children'
      );

      // One level: the model runs, not yet the candidates (keyboard: Enter).
      await toggle.focus();
      await page.keyboard.press('Enter');
      await expect(toggle).toHaveAttribute('aria-expanded', 'true');
      await expect(explorer.locator('.jp-MlopsLab-runRow')).toHaveCount(3);
      expect(await namesAt(explorer, 1)).toEqual([
        'GridSearchCV-1',
        'RandomForestClassifier-1'
      ]);
      await expect(
        explorer.locator('.jp-MlopsLab-runRow[data-depth="2"]')
      ).toHaveCount(0);
      const search = row(explorer, 'GridSearchCV-1');
      const searchToggle = search.locator('.jp-MlopsLab-expand');
      await expect(searchToggle).toHaveAttribute('aria-expanded', 'false');
      await expect(search.locator('.jp-MlopsLab-childCount')).toHaveText(
        '3 children'
      );

      // Two levels: the search's candidates under it (keyboard: Space).
      await searchToggle.focus();
      await page.keyboard.press('Space');
      await expect(searchToggle).toHaveAttribute('aria-expanded', 'true');
      await expect(explorer.locator('.jp-MlopsLab-runRow')).toHaveCount(6);
      expect(await namesAt(explorer, 2)).toEqual(CANDIDATES);
      // The candidates follow their search run, each level further right.
      const order = await explorer
        .locator('.jp-MlopsLab-runRow .jp-MlopsLab-linkButton')
        .allTextContents();
      const at = order.indexOf('GridSearchCV-1');
      expect(order.slice(at + 1, at + 4).sort()).toEqual(CANDIDATES);
      const candidate = row(explorer, CANDIDATES[0]);
      expect(await nameLeft(search)).toBeGreaterThan(await nameLeft(notebook));
      expect(await nameLeft(candidate)).toBeGreaterThan(
        await nameLeft(search)
      );
      // A candidate's row shows its own param and metric, whole.
      await expect(candidate.locator('td[data-column="params.C"]')).toHaveText(
        '0.1'
      );
      await expect(candidate).toBeInViewport();
      await attachScreenshot(page, `explorer-tree-${width}`, testInfo);

      // Collapsing the search run hides its candidates; the notebook run's,
      // both levels.
      await searchToggle.click();
      await expect(explorer.locator('.jp-MlopsLab-runRow')).toHaveCount(3);
      await toggle.click();
      await expect(explorer.locator('.jp-MlopsLab-runRow')).toHaveCount(1);
    });
  });
}

test.describe('Runs explorer, children on other pages', () => {
  test.use({ viewport: { width: 1400, height: 900 } });

  test('expanding a notebook run fetches its children from the server', async ({
    page
  }) => {
    const explorer = await openExplorer(page);
    // Only the notebook run on the page: its children are fetched on expand.
    const filter = explorer.locator('.jp-MlopsLab-filterInput');
    await filter.fill("attributes.run_name = 'sweep-notebook'");
    await filter.press('Enter');
    await expect(explorer.locator('.jp-MlopsLab-runRow')).toHaveCount(1);
    const parent = row(explorer, 'sweep-notebook');
    await expect(parent.locator('.jp-MlopsLab-childCount')).toHaveCount(0);
    await parent.locator('.jp-MlopsLab-expand').click();
    await expect(explorer.locator('.jp-MlopsLab-childRow')).toHaveCount(3);
    await expect(
      explorer.locator('.jp-MlopsLab-childRow .jp-MlopsLab-linkButton')
    ).toHaveText(CHILDREN);
    await expect(parent.locator('.jp-MlopsLab-childCount')).toHaveText(
      '3 children'
    );
    await expect(explorer.locator('[role="alert"]')).toHaveCount(0);
    await parent.locator('.jp-MlopsLab-expand').click();
    await expect(explorer.locator('.jp-MlopsLab-childRow')).toHaveCount(0);

    // A run without children says so once expanded.
    await filter.fill("attributes.run_name = 'baseline'");
    await filter.press('Enter');
    await expect(explorer.locator('.jp-MlopsLab-runRow')).toHaveCount(1);
    await row(explorer, 'baseline').locator('.jp-MlopsLab-expand').click();
    await expect(explorer.locator('.jp-MlopsLab-childNote')).toHaveText(
      'No child runs.'
    );
  });
});

test('the explorer opens from the command palette and the launcher', async ({
  page
}) => {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('launcher:create');
  });
  // The launcher just created is the one shown.
  const card = page
    .locator('.jp-Launcher:visible .jp-LauncherCard', {
      hasText: 'Runs explorer'
    })
    .first();
  await expect(card).toBeVisible();
  await card.click();
  await expect(page.locator(`[id="${EXPLORER_ID}"]`)).toBeVisible();

  await page.evaluate(async id => {
    Array.from(window.jupyterapp.shell.widgets('main'))
      .find(w => w.id === id)
      ?.dispose();
  }, EXPLORER_ID);
  await page.keyboard.press('Control+Shift+c');
  const palette = page.locator('#modal-command-palette');
  await expect(palette).toBeVisible();
  await palette.locator('input').fill('Open Runs explorer');
  await palette
    .locator('.lm-CommandPalette-item', { hasText: 'Open Runs explorer' })
    .first()
    .click();
  await expect(page.locator(`[id="${EXPLORER_ID}"]`)).toBeVisible();
});
