/**
 * Schedules, in the real browser against the real server and its scheduler
 * thread: the Run-as-job form's Schedule tab reads a cron as it is typed (the
 * server's 400 under the field, then the expression in words and its next fire
 * times); a schedule made from it is listed in the Jobs section with its next
 * run; its every-second slots fire real papermill executions, listed under it;
 * it pauses, and it is deleted after JupyterLab's dialog asks.
 */
import { expect, test } from '@jupyterlab/galata';

const SIDEBAR_ID = 'mlops-lab:sidebar';
const NOTEBOOK = 'scheduled.ipynb';

function notebook(): string {
  const code = (id: string, source: string, tags: string[] = []) => ({
    id,
    cell_type: 'code',
    execution_count: null,
    metadata: tags.length ? { tags } : {},
    outputs: [],
    source
  });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      },
      language_info: { name: 'python' }
    },
    cells: [
      code('params', 'alpha = 0.5', ['parameters']),
      code('work', 'print(f"alpha={alpha}")')
    ]
  });
}

test.describe('Schedules', () => {
  test.use({ viewport: { width: 1400, height: 900 } });

  // A schedule left behind by a failed run would fire every second into the
  // next tests: whatever this test made is deleted, passed or not.
  test.afterEach(async ({ page }) => {
    await page.evaluate(async () => {
      const answer = await fetch('/mlops-lab/api/schedules');
      const { schedules } = await answer.json();
      for (const schedule of schedules ?? []) {
        await fetch(`/mlops-lab/api/schedules/${schedule.id}`, {
          method: 'DELETE'
        });
      }
    });
  });

  test('create from the form, see it fire, pause it, delete it', async ({
    page,
    tmpPath
  }, testInfo) => {
    test.setTimeout(60 * 1000);
    const path = `${tmpPath}/${NOTEBOOK}`;
    await page.contents.uploadContent(notebook(), 'text', path);
    await page.notebook.openByPath(path);
    await page.notebook.activate(NOTEBOOK);

    await page.locator('.jp-MlopsLab-runAsJobButton').first().click();
    const form = page.locator('.jp-MlopsLab-jobForm');
    await expect(form.locator('[name="alpha"]')).toHaveValue('0.5');
    await form.locator('.jp-MlopsLab-jobMode[data-mode="schedule"]').click();
    await expect(form.locator('.jp-MlopsLab-jobSubmit')).toHaveText(
      'Create schedule'
    );

    // The zone picker starts at the browser's zone.
    const browserZone = await page.evaluate(
      () => Intl.DateTimeFormat().resolvedOptions().timeZone
    );
    await expect(form.locator('[name="timezone"]')).toHaveValue(browserZone);

    // A wrong hour: the server's message, naming the field, under the cron.
    const cron = form.locator('[name="cron"]');
    await cron.fill('0 25 * * *');
    await expect(
      form.locator('[data-param="cron"] .jp-MlopsLab-fieldError')
    ).toContainText("the hour field '25'");

    // Every second: in words, with its next three fire times.
    await cron.fill('* * * * * *');
    await expect(
      form.locator('[data-param="cron"] .jp-MlopsLab-fieldError')
    ).toHaveCount(0);
    await expect(form.locator('.jp-MlopsLab-cronDescription')).toHaveText(
      /second/i
    );
    await expect(form.locator('.jp-MlopsLab-cronNext li')).toHaveCount(3);

    await form.locator('[name="alpha"]').fill('2.5');
    await form.locator('.jp-MlopsLab-jobSubmit').click();
    await expect(form.locator('.jp-MlopsLab-jobFormDone')).toContainText(
      'created'
    );

    // Listed in the Jobs section (the sidebar opens), active, with a next run.
    const jobs = page.locator(`[id="${SIDEBAR_ID}"] .jp-MlopsLab-section-jobs`);
    const schedule = jobs.locator('.jp-MlopsLab-schedule');
    await expect(schedule).toHaveCount(1);
    await expect(schedule).toHaveAttribute('data-state', 'ACTIVE');
    await expect(schedule.locator('.jp-MlopsLab-scheduleCron')).toContainText(
      `(${browserZone})`
    );
    await expect(schedule.locator('.jp-MlopsLab-scheduleNext')).toContainText(
      'Next:'
    );
    await expect(schedule.locator('.jp-MlopsLab-scheduleProblem')).toHaveCount(
      0
    );

    // Its slots fire: an execution of it is listed under it, with its slot.
    await schedule.locator('.jp-MlopsLab-scheduleToggle').click();
    await expect(
      schedule.locator('.jp-MlopsLab-scheduleExecution').first()
    ).toBeVisible({ timeout: 20 * 1000 });
    await expect(
      schedule.locator('.jp-MlopsLab-scheduleSlot').first()
    ).toBeVisible();
    await expect(schedule.locator('.jp-MlopsLab-scheduleLast')).toContainText(
      /QUEUED|RUNNING|SUCCEEDED/
    );
    await testInfo.attach('schedule', {
      body: await page.screenshot(),
      contentType: 'image/png'
    });

    // Paused: no next run.
    await schedule.locator('.jp-MlopsLab-schedulePause').click();
    await expect(schedule).toHaveAttribute('data-state', 'PAUSED');
    await expect(schedule.locator('.jp-MlopsLab-scheduleNext')).toContainText(
      'none while PAUSED'
    );
    await expect(
      schedule.locator('.jp-MlopsLab-scheduleResume')
    ).toBeVisible();

    // Deleted once the dialog is answered.
    await schedule.locator('.jp-MlopsLab-scheduleDelete').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Delete schedule');
    await dialog.locator('.jp-mod-warn').click();
    await expect(jobs.locator('.jp-MlopsLab-schedule')).toHaveCount(0);
    const left = await page.evaluate(async () => {
      const answer = await fetch('/mlops-lab/api/schedules');
      return (await answer.json()).schedules.length;
    });
    expect(left).toBe(0);
  });
});
