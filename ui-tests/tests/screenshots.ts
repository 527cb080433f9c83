/**
 * Screenshots the browser tests keep with their report.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator, TestInfo } from '@playwright/test';

/** Save a screenshot in the test's output folder and attach it to the report. */
export async function attachScreenshot(
  target: Locator | IJupyterLabPageFixture,
  name: string,
  testInfo: TestInfo
): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await target.screenshot({ path });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}
