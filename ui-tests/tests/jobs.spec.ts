/**
 * Run as job, in the real browser against the real server: a notebook with a
 * parameters cell gets a typed form with its defaults; a wrong type is shown
 * beside its field and nothing is sent; a right submit shows the execution in
 * the sidebar's Jobs section going to SUCCEEDED (real kernel, real papermill),
 * and its output notebook opens read-only.
 */
import { expect, test } from '@jupyterlab/galata';

const SIDEBAR_ID = 'mlops-lab:sidebar';
const NOTEBOOK = 'job_params.ipynb';

/** A notebook whose first cell is tagged `parameters`, then `more` cells. */
function notebook(...more: string[]): string {
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
      code('params', 'alpha = 0.5\nepochs = 3\nverbose = False', [
        'parameters'
      ]),
      code('work', 'print(f"result={alpha * epochs}")'),
      ...more.map((source, i) => code(`more${i}`, source))
    ]
  });
}

test.describe('Run as job', () => {
  test.use({ viewport: { width: 1400, height: 900 } });

  test('typed form, inline error, live progress, output notebook', async ({
    page,
    tmpPath
  }, testInfo) => {
    test.setTimeout(90 * 1000);
    await page.contents.uploadContent(
      notebook(),
      'text',
      `${tmpPath}/${NOTEBOOK}`
    );
    await page.notebook.openByPath(`${tmpPath}/${NOTEBOOK}`);
    await page.notebook.activate(NOTEBOOK);

    const posts: string[] = [];
    page.on('request', request => {
      if (
        request.method() === 'POST' &&
        request.url().includes('/mlops-lab/api/jobs')
      ) {
        posts.push(request.url());
      }
    });

    await page.locator('.jp-MlopsLab-runAsJobButton').first().click();
    const form = page.locator('.jp-MlopsLab-jobForm');
    await expect(form.locator('[name="alpha"]')).toHaveValue('0.5');
    await expect(form.locator('[name="epochs"]')).toHaveValue('3');
    await expect(form.locator('[name="verbose"]')).not.toBeChecked();
    await expect(form.locator('[name="kernel_name"]')).toHaveValue('python3');

    // A wrong type: shown beside the field, nothing sent, no execution listed.
    await form.locator('[name="alpha"]').fill('abc');
    await expect(
      form.locator('[data-param="alpha"] .jp-MlopsLab-fieldError')
    ).toHaveText("alpha expects float, got 'abc'");
    await form.locator('.jp-MlopsLab-jobSubmit').click();
    await expect(
      form.locator('[data-param="alpha"] .jp-MlopsLab-fieldError')
    ).toBeVisible();
    expect(posts).toEqual([]);
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('mlops-lab:open-sidebar');
    });
    const jobs = page.locator(`[id="${SIDEBAR_ID}"] .jp-MlopsLab-section-jobs`);
    await expect(jobs.locator('.jp-MlopsLab-job')).toHaveCount(0);

    // A right value: queued, then RUNNING/SUCCEEDED in the section, no reload.
    await form.locator('[name="alpha"]').fill('2.5');
    await expect(form.locator('.jp-MlopsLab-fieldError')).toHaveCount(0);
    await form.locator('.jp-MlopsLab-jobSubmit').click();
    await expect(form.locator('.jp-MlopsLab-jobFormDone')).toContainText(
      'Queued execution'
    );
    expect(posts.length).toBe(1);
    const execution = jobs.locator('.jp-MlopsLab-job').first();
    await expect(execution).toBeVisible();
    await expect(execution).toHaveAttribute('data-state', 'SUCCEEDED', {
      timeout: 45 * 1000
    });
    await expect(execution.locator('.jp-MlopsLab-jobProgress')).toHaveText(
      /(\d+)\/\1 cells/
    );
    await expect(execution.locator('.jp-MlopsLab-jobParams')).toHaveText(
      'alpha=2.5'
    );

    // The output notebook opens read-only, with papermill's injected values.
    await execution.locator('.jp-MlopsLab-jobOutput').click();
    const output = page.locator('.jp-MlopsLab-snapshot');
    await expect(output).toBeVisible();
    await expect(output).toContainText('alpha = 2.5');
    await expect(output).toContainText('result=7.5');

    // The log, read from the server.
    await execution.locator('.jp-MlopsLab-jobLog').click();
    await expect(execution.locator('.jp-MlopsLab-jobLogText')).toContainText(
      'result=7.5'
    );

    await testInfo.attach('run-as-job', {
      body: await page.screenshot(),
      contentType: 'image/png'
    });
  });

  test('a sweep from the form: its grid runs and its best is named', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(120 * 1000);
    const name = 'job_sweep.ipynb';
    await page.contents.uploadContent(
      notebook("import mlflow\nmlflow.log_metric('score', alpha * epochs)"),
      'text',
      `${tmpPath}/${name}`
    );
    await page.notebook.openByPath(`${tmpPath}/${name}`);
    await page.notebook.activate(name);
    await page.locator('.jp-MlopsLab-runAsJobButton').first().click();
    const form = page.locator('.jp-MlopsLab-jobForm');
    await expect(form.locator('[name="sweep_metric"]')).toHaveCount(0);

    await form.locator('[name="alpha-sweep"]').check();
    await form.locator('[name="alpha"]').fill('1, 3');
    await form.locator('[name="sweep_metric"]').fill('score');
    await form.locator('[name="concurrency"]').fill('0');
    await expect(
      form.locator('[data-param="concurrency"] .jp-MlopsLab-fieldError')
    ).toHaveCount(0); // checked when sent, beside its field
    await form.locator('.jp-MlopsLab-jobSubmit').click();
    await expect(
      form.locator('[data-param="concurrency"] .jp-MlopsLab-fieldError')
    ).toHaveText("concurrency must be a whole number >= 1, got '0'");
    await form.locator('[name="concurrency"]').fill('2');
    await expect(form.locator('.jp-MlopsLab-jobSubmit')).toHaveText(
      'Run 2 executions'
    );
    await form.locator('.jp-MlopsLab-jobSubmit').click();
    await expect(form.locator('.jp-MlopsLab-jobFormDone')).toBeVisible();

    // The sweep's two executions end, and the server names the best one.
    const bestOfSweep = () =>
      page.evaluate(async () => {
        const get = async (path: string) =>
          (await fetch(`/mlops-lab/api/${path}`)).json();
        const { executions } = await get('executions?max_results=2');
        const id = executions[0]?.sweep_id;
        if (!id) {
          return null;
        }
        const sweep = await get(`sweeps/${id}`);
        return sweep.state === 'SUCCEEDED' ? sweep.best_value : sweep.state;
      });
    await expect.poll(bestOfSweep, { timeout: 90 * 1000 }).toBe(9);
  });

  test('a %mlops job run cell saves its notebook before it runs', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebook(`%mlops job run ${NOTEBOOK} --help`),
      'text',
      `${tmpPath}/${NOTEBOOK}`
    );
    await page.notebook.openByPath(`${tmpPath}/${NOTEBOOK}`);
    await page.notebook.activate(NOTEBOOK);
    const path = `${tmpPath}/${NOTEBOOK}`;
    /** The source of the notebook's second cell as saved on disk. */
    const savedSource = () =>
      page.evaluate(async path => {
        const model = await window.jupyterapp.serviceManager.contents.get(
          path,
          { content: true }
        );
        const source = model.content.cells[1].source;
        return Array.isArray(source) ? source.join('') : source;
      }, path);

    // An ordinary cell run leaves the edit unsaved.
    await page.notebook.setCell(1, 'code', 'print("edited")');
    await page.notebook.runCell(1);
    expect(await savedSource()).not.toContain('edited');

    // A cell submitting a notebook as a job saves this one first: a job runs
    // the file, and the magic waits for it to be written.
    await page.notebook.runCell(2);
    await expect.poll(savedSource).toContain('edited');
  });
});
