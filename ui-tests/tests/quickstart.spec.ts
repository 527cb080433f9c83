/**
 * End to end, as a user would: run the quickstart notebook in JupyterLab (so the
 * kernel learns its notebook path from the session, not from a test option), then
 * find its run in the sidebar's Runs list (also with "This notebook only", which
 * filters on the notebook's path through the server) and open it in the Runs
 * explorer, with the notebook as its source.
 */
import * as path from 'path';

import { expect, test } from '@jupyterlab/galata';

const NOTEBOOK = 'quickstart.ipynb';

test.describe('Quickstart', () => {
  test.use({ viewport: { width: 1400, height: 900 } });

  test('a notebook run with %mlops track shows up in the Runs section', async ({
    page,
    tmpPath
  }, testInfo) => {
    test.setTimeout(180 * 1000);
    await page.contents.uploadFile(
      path.resolve(__dirname, '../../notebooks', NOTEBOOK),
      `${tmpPath}/${NOTEBOOK}`
    );
    await page.notebook.openByPath(`${tmpPath}/${NOTEBOOK}`);
    await page.notebook.activate(NOTEBOOK);
    await page.notebook.run();

    // The last cell (%mlops runs) shows this notebook's run in a DataFrame.
    const lastOutput = page
      .locator('.jp-Cell')
      .last()
      .locator('.jp-OutputArea');
    await expect(lastOutput).toContainText('FINISHED');
    await expect(
      page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
      )
    ).toHaveCount(0);

    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
    });
    const runs = page.locator('.jp-MlopsLab-section-runs');
    const experiment = `${tmpPath}/${NOTEBOOK}`;
    const picker = runs.locator('select[aria-label="Experiment"]');
    await expect(picker.locator('option', { hasText: experiment })).toHaveCount(
      1
    );
    await picker.selectOption({ label: experiment });

    const row = runs.locator('.jp-MlopsLab-recentRun').first();
    await expect(row.locator('.jp-MlopsLab-recentName')).toHaveText(
      /^quickstart-\d{4}-\d{6}$/
    );
    await expect(row).toContainText('FINISHED');

    // The notebook in focus: its runs only, found by the path on the server.
    await page.notebook.activate(NOTEBOOK);
    const notebookOnly = runs.locator('.jp-MlopsLab-notebookOnly input');
    await notebookOnly.check();
    await expect(runs.locator('.jp-MlopsLab-recentRun')).toHaveCount(1);
    await expect(row.locator('.jp-MlopsLab-recentName')).toHaveText(
      /^quickstart-\d{4}-\d{6}$/
    );
    await expect(runs.locator('[role="alert"]')).toHaveCount(0);
    await row.locator('.jp-MlopsLab-recentName').click();

    const details = page.locator(
      '[id="mlops-lab:runs-explorer"] .jp-MlopsLab-runDetails'
    );
    await expect(details).toContainText(experiment);
    await expect(details).toContainText('test_roc_auc');

    const shot = testInfo.outputPath('quickstart-run.png');
    await page.screenshot({ path: shot });
    await testInfo.attach('quickstart-run', {
      path: shot,
      contentType: 'image/png'
    });
  });
});
