import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';

/** The rules axe checks: WCAG 2.2 A and AA, and its best practices. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/**
 * Runs axe-core on the page as it is now and fails on any serious or critical violation, naming
 * the rule, the elements and what to fix. Milder findings are attached to the test's report.
 *
 * With JavaScript off axe cannot run in the page (its timers never fire), so it runs on a copy:
 * the page's current HTML, its scripts taken out, served at the same address to a page of its
 * own with JavaScript on, the same size, that loads the same stylesheet.
 */
export async function expectAccessible(page: Page, where: string) {
  const results = test.info().project.use.javaScriptEnabled === false ? await analyzeCopy(page) : await analyze(page);
  const blocking = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const milder = results.violations.filter((v) => !blocking.includes(v));
  if (milder.length > 0) {
    await test.info().attach(`axe: milder findings on ${where}`, {
      body: milder.map((v) => `${v.id} (${v.impact}): ${v.help} × ${v.nodes.length}`).join('\n'),
      contentType: 'text/plain',
    });
  }
  const report = blocking.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} — ${v.helpUrl}\n` +
      v.nodes.map((node) => `    ${node.target.join(' ')}\n      ${node.failureSummary?.replace(/\n/g, '\n      ')}`).join('\n'),
  );
  expect(report, `serious or critical accessibility violations on ${where}`).toEqual([]);
}

function analyze(page: Page) {
  return new AxeBuilder({ page }).withTags(TAGS).analyze();
}

async function analyzeCopy(page: Page) {
  const url = page.url();
  const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '');
  const { isMobile, hasTouch } = test.info().project.use;
  // A context of its own, closed before the check returns (one left open would outlive the test).
  const context = await page.context().browser()!.newContext({
    javaScriptEnabled: true,
    viewport: page.viewportSize(),
    isMobile,
    hasTouch,
  });
  try {
    const copy = await context.newPage();
    await copy.route(
      (address) => address.href === url,
      (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );
    await copy.goto(url);
    return await analyze(copy);
  } finally {
    await context.close();
  }
}
