/**
 * The sidebar's compact Runs list and the Runs explorer against runs the test
 * server's fixture logged (`jupyter_server_test_config.py`): 61 runs in
 * `galata-runs`, `run-37` the most accurate, `snapshot-run` the newest, with a
 * notebook snapshot and a dataset.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { attachScreenshot } from './screenshots';

const SIDEBAR_ID = 'mlops-lab:sidebar';
const EXPLORER_ID = 'mlops-lab:runs-explorer';
const EXPERIMENT = 'galata-runs';

/** Open the sidebar, choose the fixture's experiment and show the sidebar's list. */
async function openSidebarRuns(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
  });
  const panel = page.locator(`[id="${SIDEBAR_ID}"]`);
  await expect(panel).toBeVisible();
  const runs = panel.locator('.jp-MlopsLab-section-runs');
  const picker = runs.locator('select[aria-label="Experiment"]');
  await expect(picker).toBeVisible();
  await picker.selectOption({ label: EXPERIMENT });
  await expect(runs.locator('.jp-MlopsLab-recentRun').first()).toBeVisible();
  return runs;
}

/**
 * Open the fixture's experiment in the Runs explorer from the sidebar's "Open
 * explorer" button; returns the explorer.
 */
async function openRuns(page: IJupyterLabPageFixture): Promise<Locator> {
  const section = await openSidebarRuns(page);
  await section.locator('.jp-MlopsLab-openExplorer').click();
  const runs = page.locator(`[id="${EXPLORER_ID}"]`);
  await expect(runs).toBeVisible();
  await expect(runs.locator('select[aria-label="Experiment"]')).toHaveValue(
    /.+/
  );
  await expect(
    runs.locator('select[aria-label="Experiment"] option:checked')
  ).toHaveText(EXPERIMENT);
  await expect(runs.locator('.jp-MlopsLab-runRow').first()).toBeVisible();
  return runs;
}

function rows(runs: Locator): Locator {
  return runs.locator('.jp-MlopsLab-runRow');
}

function firstRunName(runs: Locator): Locator {
  return rows(runs).first().locator('.jp-MlopsLab-runName');
}

test.describe('Runs section', () => {
  test.use({ viewport: { width: 1400, height: 900 } });

  test('the sidebar lists recent runs at its default width, each opening in the explorer', async ({
    page
  }, testInfo) => {
    const runs = await openSidebarRuns(page);
    const first = runs.locator('.jp-MlopsLab-recentRun').first();
    await expect(first.locator('.jp-MlopsLab-recentName')).toHaveText(
      'snapshot-run'
    );
    await expect(first.locator('.jp-MlopsLab-recentValue')).toHaveText('0.92');
    // Status and metric are whole at the sidebar's default width: nothing cut.
    for (const cell of [
      first.locator('.jp-MlopsLab-status'),
      first.locator('.jp-MlopsLab-recentValue')
    ]) {
      await expect(cell).toBeInViewport({ ratio: 1 });
      expect(
        await cell.evaluate(el => el.scrollWidth <= el.clientWidth + 1)
      ).toBe(true);
    }
    await expect(first.locator('.jp-MlopsLab-status')).toHaveText('FINISHED');
    // No wide table in the sidebar.
    await expect(runs.locator('.jp-MlopsLab-runsTable')).toHaveCount(0);
    await attachScreenshot(runs, 'sidebar-recent-runs', testInfo);

    await first.locator('.jp-MlopsLab-recentName').click();
    const explorer = page.locator(`[id="${EXPLORER_ID}"]`);
    await expect(
      explorer.locator('.jp-MlopsLab-explorerSide .jp-MlopsLab-runDetails h3')
    ).toHaveText('snapshot-run');
  });

  test('lists, pages, sorts and filters runs through the server', async ({
    page
  }, testInfo) => {
    const runs = await openRuns(page);

    // Newest first; one page of 50 out of 61.
    await expect(rows(runs)).toHaveCount(50);
    await expect(firstRunName(runs)).toHaveText('snapshot-run');
    await expect(runs.locator('th[data-column="params.C"]')).toBeVisible();
    await expect(
      runs.locator('th[data-column="metrics.accuracy"]')
    ).toBeVisible();

    await attachScreenshot(runs, 'runs-section', testInfo);

    // Next and Previous with the server's page tokens.
    await runs.locator('.jp-MlopsLab-next').click();
    await expect(rows(runs)).toHaveCount(11);
    await expect(runs.locator('.jp-MlopsLab-pageInfo')).toContainText('Page 2');
    await expect(runs.locator('.jp-MlopsLab-next')).toBeDisabled();
    await runs.locator('.jp-MlopsLab-previous').click();
    await expect(rows(runs)).toHaveCount(50);
    await expect(firstRunName(runs)).toHaveText('snapshot-run');

    // Sort by accuracy: the most accurate run first, then the least.
    const accuracy = runs.locator('th[data-column="metrics.accuracy"]');
    await accuracy.locator('button').click();
    await expect(firstRunName(runs)).toHaveText('run-37');
    await expect(accuracy).toHaveAttribute('aria-sort', 'descending');
    await expect(accuracy.locator('.jp-MlopsLab-sortIndicator')).toHaveText(
      '▼'
    );
    await accuracy.locator('button').click();
    await expect(accuracy).toHaveAttribute('aria-sort', 'ascending');
    await expect(firstRunName(runs)).not.toHaveText('run-37');
    await expect(
      rows(runs).first().locator('td[data-column="metrics.accuracy"]')
    ).toHaveText('0.6');

    // A filter in MLflow's syntax, applied on Enter.
    const filter = runs.locator('.jp-MlopsLab-filterInput');
    await filter.fill('metrics.accuracy > 0.9');
    await filter.press('Enter');
    await expect(rows(runs)).toHaveCount(2);
    await expect(rows(runs).locator('.jp-MlopsLab-runName')).toHaveText([
      'snapshot-run',
      'run-37'
    ]);
    await expect(runs.locator('.jp-MlopsLab-filterError')).toHaveCount(0);

    // A filter MLflow cannot parse: its own message, the rows kept.
    await filter.fill('metrics.accuracy >>> 0.9');
    await filter.press('Enter');
    const error = runs.locator('.jp-MlopsLab-filterError');
    await expect(error).toBeVisible();
    await expect(error).toContainText('>>>');
    await expect(filter).toHaveValue('metrics.accuracy >>> 0.9');
    await expect(rows(runs)).toHaveCount(2);
    await attachScreenshot(runs, 'runs-filter-error', testInfo);
  });

  test('shows a run and opens its notebook snapshot read-only', async ({
    page
  }, testInfo) => {
    const runs = await openRuns(page);
    await runs
      .locator('.jp-MlopsLab-runName button', { hasText: 'snapshot-run' })
      .click();

    const details = runs.locator('.jp-MlopsLab-runDetails');
    await expect(details.locator('h3')).toHaveText('snapshot-run');
    await expect(
      details.locator('.jp-MlopsLab-kv-params tr[data-key="C"] td')
    ).toHaveText('1.0');
    await expect(
      details.locator('.jp-MlopsLab-kv-metrics tr[data-key="accuracy"] td')
    ).toHaveText('0.92');
    await expect(details.locator('.jp-MlopsLab-datasetName')).toHaveText(
      'iris'
    );
    await expect(details.locator('.jp-MlopsLab-datasetDigest')).toHaveText(
      /^[0-9a-f]{6,}$/
    );
    await expect(details.locator('.jp-MlopsLab-notebookPath')).toHaveText(
      'notebooks/train.ipynb'
    );
    await expect(details.locator('.jp-MlopsLab-gitCommit')).toHaveText(
      '0123456789ab'
    );
    await expect(details.locator('.jp-MlopsLab-gitDirty')).toHaveText('yes');
    await expect(details.locator('.jp-MlopsLab-openMlflow')).toHaveAttribute(
      'href',
      /^http:\/\/127\.0\.0\.1:5999\//
    );
    await attachScreenshot(details, 'run-details', testInfo);

    await details.locator('.jp-MlopsLab-openSnapshot').click();
    const snapshot = page.locator('#jp-main-dock-panel .jp-MlopsLab-snapshot');
    await expect(snapshot).toBeVisible();
    await expect(
      page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', {
        hasText: 'snapshot-run (snapshot, read-only)'
      })
    ).toBeVisible();
    await expect(snapshot.locator('.jp-MarkdownOutput h1')).toContainText(
      'Training snapshot'
    );
    await expect(snapshot.locator('.jp-OutputArea-output')).toContainText(
      '0.92'
    );

    // Typing into the code cell changes nothing: the snapshot is read-only.
    const editor = snapshot.locator('.jp-CodeCell .cm-content').first();
    await editor.click();
    await page.keyboard.type('edited');
    await expect(editor).not.toContainText('edited');
    await expect(editor).toContainText('accuracy = 0.5 + 0.01 * 42');
    await attachScreenshot(page, 'run-snapshot', testInfo);
  });

  test('compares the selected runs in a chart', async ({ page }, testInfo) => {
    const runs = await openRuns(page);
    const boxes = runs.locator('.jp-MlopsLab-selectRun');
    for (const index of [1, 2, 3]) {
      await boxes.nth(index).check();
    }

    const compare = runs.locator('.jp-MlopsLab-compare');
    await expect(compare.locator('h3')).toHaveText('Compare 3 runs');
    const chart = compare.locator('.jp-MlopsLab-compareChart');
    await expect(chart.locator('canvas')).toBeVisible();
    await expect(chart).toHaveAttribute('data-mode', 'by-run');
    await expect(chart).toHaveAttribute('data-count', '3');
    // The server's labels, "name (8-char id)", the same in every face.
    await expect(
      chart.locator('.jp-MlopsLab-chartData tbody td:first-child')
    ).toHaveText(Array(3).fill(/^run-\d+ \([0-9a-f]{8}\)$/));
    // Drawn: the canvas holds bars in the chart's fill colour, and nothing
    // in the comparison is an error.
    await expect
      .poll(() => barPixels(chart), { timeout: 10000 })
      .toBeGreaterThan(300);
    await expect(compare.locator('[role="alert"]')).toHaveCount(0);
    await compare.scrollIntoViewIfNeeded();
    await attachScreenshot(compare, 'compare-by-run', testInfo);

    await compare
      .locator('select[aria-label="Chart"]')
      .selectOption('against-param');
    await compare.locator('select[aria-label="Param"]').selectOption('C');
    await expect(chart).toHaveAttribute('data-mode', 'against-param');
    await expect(chart).toHaveAttribute('data-count', '3');
    await expect
      .poll(() => barPixels(chart), { timeout: 10000 })
      .toBeGreaterThan(30);
    await expect(compare.locator('[role="alert"]')).toHaveCount(0);
    await attachScreenshot(compare, 'compare-against-param', testInfo);

    // The server's histories: one line per run over the logged steps.
    await compare.locator('select[aria-label="Chart"]').selectOption('history');
    await expect(chart).toHaveAttribute('data-mode', 'history');
    await expect(compare.locator('select[aria-label="Metric"]')).toHaveValue(
      'train_loss'
    );
    await expect(chart).toHaveAttribute('data-count', '3');
    await expect(chart.locator('.jp-MlopsLab-chartData tbody tr')).toHaveCount(
      12
    );
    await expect
      .poll(() => colourPixels(chart, '--jp-brand-color1'), { timeout: 10000 })
      .toBeGreaterThan(30);
    await expect(compare.locator('[role="alert"]')).toHaveCount(0);
    await attachScreenshot(compare, 'compare-history', testInfo);

    await compare.locator('.jp-MlopsLab-clearSelection').click();
    await expect(runs.locator('.jp-MlopsLab-compare')).toHaveCount(0);
  });

  test('redraws the chart in the new theme', async ({ page }, testInfo) => {
    const runs = await openRuns(page);
    const boxes = runs.locator('.jp-MlopsLab-selectRun');
    await boxes.nth(1).check();
    await boxes.nth(2).check();
    const chart = runs.locator('.jp-MlopsLab-compareChart');
    await expect
      .poll(() => colourPixels(chart, '--jp-border-color2'), { timeout: 10000 })
      .toBeGreaterThan(200);

    try {
      await page.evaluate(async () => {
        await window.jupyterapp.commands.execute('apputils:change-theme', {
          theme: 'JupyterLab Dark'
        });
      });
      await expect(page.locator('body')).toHaveAttribute(
        'data-jp-theme-name',
        'JupyterLab Dark'
      );
      // The grid is drawn again in the dark theme's border colour.
      await expect
        .poll(() => colourPixels(chart, '--jp-border-color2'), {
          timeout: 10000
        })
        .toBeGreaterThan(200);
      await attachScreenshot(
        runs.locator('.jp-MlopsLab-compare'),
        'compare-dark',
        testInfo
      );
    } finally {
      await page.evaluate(async () => {
        await window.jupyterapp.commands.execute('apputils:change-theme', {
          theme: 'JupyterLab Light'
        });
      });
    }
  });
});

/**
 * How many pixels of the chart's canvas are in the bars' (and points') fill
 * colour, the theme's `--jp-brand-color2`: 0 when nothing but axes was drawn.
 */
function barPixels(chart: Locator): Promise<number> {
  return colourPixels(chart, '--jp-brand-color2');
}

/** How many pixels of the chart's canvas are in the colour of a theme variable. */
async function colourPixels(chart: Locator, variable: string): Promise<number> {
  return chart.locator('canvas').evaluate((canvas: HTMLCanvasElement, name) => {
    const probe = document.createElement('div');
    probe.style.color = `var(${name})`;
    canvas.parentElement!.appendChild(probe);
    const fill = getComputedStyle(probe)
      .color.match(/\d+/g)!
      .slice(0, 3)
      .map(Number);
    probe.remove();
    const context = canvas.getContext('2d');
    if (!context || canvas.width === 0 || canvas.height === 0) {
      return 0;
    }
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const close =
        Math.abs(data[i] - fill[0]) < 12 &&
        Math.abs(data[i + 1] - fill[1]) < 12 &&
        Math.abs(data[i + 2] - fill[2]) < 12 &&
        data[i + 3] > 200;
      if (close) {
        count += 1;
      }
    }
    return count;
  }, variable);
}
