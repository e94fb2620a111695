import { defineConfig } from '@playwright/test';

// `cargo xtask e2e` starts a fresh server and database and passes its URL in E2E_BASE_URL.
const baseURL = process.env.E2E_BASE_URL;
if (!baseURL) {
  throw new Error('E2E_BASE_URL is not set: run the browser tests with `cargo xtask e2e`');
}

// Debian's Chromium: a test tool's own browser download does not work here.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// A common laptop screen, and a phone (an iPhone 12 to 15's CSS width) with touch.
const laptop = { width: 1366, height: 768 };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [['list']],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  // Every journey runs four times: hydrated and with JavaScript off (server-rendered forms
  // only), each at a laptop's width (1366 px) and at a phone's (390 px). Journeys that change
  // shared data pick their own token per project (`own` in pages/project.ts).
  projects: [
    { name: 'hydrated', use: { javaScriptEnabled: true, viewport: laptop } },
    { name: 'no-js', use: { javaScriptEnabled: false, viewport: laptop } },
    { name: 'hydrated-phone', use: { javaScriptEnabled: true, ...phone } },
    { name: 'no-js-phone', use: { javaScriptEnabled: false, ...phone } },
  ],
});
