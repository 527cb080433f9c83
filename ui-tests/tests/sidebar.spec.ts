/**
 * The MLOps sidebar opens in JupyterLab and shows the server's tracking URI.
 */
import { expect, test } from '@jupyterlab/galata';

const SIDEBAR_ID = 'mlops-lab:sidebar';

test.describe('MLOps sidebar', () => {
  test('opens from its tab and shows the tracking URI', async ({
    page
  }, testInfo) => {
    const tab = page.locator(
      `.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`
    );
    await expect(tab).toBeVisible();
    await tab.click();

    const panel = page.locator(`[id="${SIDEBAR_ID}"]`);
    await expect(panel).toBeVisible();

    const trackingUri = panel.locator('.jp-MlopsLab-trackingUri');
    // The test server runs on a temporary root with the embedded default store.
    await expect(trackingUri).toContainText('.mlops/mlflow.db');

    await expect(panel.locator('.jp-MlopsLab-version')).toHaveText(/\d+\.\d+/);
    await expect(panel.locator('.jp-MlopsLab-store')).not.toHaveCount(0);
    // A section appears once its feature exists: no placeholders.
    await expect(panel.locator('.jp-MlopsLab-sectionTitle')).toHaveText([
      'Runs',
      'Jobs'
    ]);

    await testInfo.attach('mlops-sidebar', {
      body: await page.screenshot(),
      contentType: 'image/png'
    });
    await page.screenshot({ path: testInfo.outputPath('mlops-sidebar.png') });
  });

  test('opens from the command palette command', async ({ page }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
    });
    await expect(page.locator(`[id="${SIDEBAR_ID}"]`)).toBeVisible();
    await expect(
      page.locator(`[id="${SIDEBAR_ID}"] .jp-MlopsLab-trackingUri`)
    ).toContainText('.mlops/mlflow.db');
  });

  test('says how to install the server extension when /health is missing', async ({
    page
  }) => {
    await page.route('**/mlops-lab/api/health**', route =>
      route.fulfill({
        status: 404,
        contentType: 'text/html',
        body: '<html><body>404: Not Found</body></html>'
      })
    );
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
    });
    const panel = page.locator(`[id="${SIDEBAR_ID}"]`);
    await panel.locator('.jp-MlopsLab-refresh').click();

    await expect(panel.locator('.jp-MlopsLab-problem')).toContainText(
      'The mlops-lab server extension is not running.'
    );
    await expect(panel.locator('.jp-MlopsLab-trackingUri')).toHaveCount(0);
  });

  test('says the Jupyter server cannot be reached, not to install, and recovers', async ({
    page
  }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
    });
    const panel = page.locator(`[id="${SIDEBAR_ID}"]`);
    await expect(panel.locator('.jp-MlopsLab-trackingUri')).toBeVisible();

    // As during a server restart: the request does not reach any server.
    await page.route('**/mlops-lab/api/health**', route => route.abort());
    await panel.locator('.jp-MlopsLab-refresh').click();
    const problem = panel.locator('.jp-MlopsLab-problem');
    await expect(problem).toContainText(
      'The Jupyter server cannot be reached'
    );
    await expect(problem).not.toContainText('pip install');

    await page.unroute('**/mlops-lab/api/health**');
    await panel.locator('.jp-MlopsLab-refresh').click();
    await expect(panel.locator('.jp-MlopsLab-trackingUri')).toBeVisible();
    await expect(problem).toHaveCount(0);
  });
});
