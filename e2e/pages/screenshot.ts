import type { Locator, Page } from '@playwright/test';

// Screenshots are for people to look at (every page at a phone's and a laptop's width); no test
// asserts on them. Chromium's capture now and then refuses with "Protocol error
// (Page.captureScreenshot): Unable to capture screenshot" when no frame of the page is ready yet
// (a CI run failed on one, right after a form's answer loaded). The page is left to finish loading
// and the capture is tried again after a frame, a few times, before the test fails on it.

type Options = { path: string; fullPage?: boolean };

const refused = (error: unknown) => error instanceof Error && error.message.includes('Unable to capture screenshot');

/** Saves a screenshot of a page or of one element, trying again if Chromium refuses to capture. */
export async function screenshot(target: Page | Locator, options: Options) {
  const page = 'page' in target && typeof target.page === 'function' ? target.page() : (target as Page);
  await page.waitForLoadState('load');
  for (let attempt = 1; ; attempt++) {
    try {
      await target.screenshot(options);
      return;
    } catch (error) {
      if (!refused(error) || attempt === 4) {
        throw error;
      }
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(null))));
    }
  }
}
