/**
 * Galata (Playwright) settings for mlops-lab's browser tests.
 *
 * Debian's chromium is used as is (Playwright cannot download a browser here);
 * video is off because Playwright's ffmpeg build is not available.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// Another port lets two worktrees run their Galata tests at once.
const port = process.env.MLOPS_LAB_UI_TEST_PORT || '8888';

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  timeout: 60 * 1000,
  expect: { timeout: 15 * 1000 },
  retries: process.env.CI ? 1 : 0,
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--disable-gpu', '--disable-dev-shm-usage']
    },
    trace: 'retain-on-failure',
    video: 'off'
  },
  webServer: {
    command: `jlpm start --ServerApp.port=${port}`,
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
