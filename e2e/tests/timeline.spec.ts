import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { phone, project } from '../pages/project';
import { signIn } from '../pages/session';

// The expiry timeline on the Review page: a bar's segment leads to the inventory filtered to its
// week and team, listing as many tokens as the segment says; the chart never widens the page.

test('a segment of the expiry timeline opens the inventory filtered to its week and team', async ({ page }) => {
  await signIn(page, 'sam.security', '/review');
  const timeline = page.locator('#expiry-timeline');
  await expect(timeline).toBeVisible();
  await expect(page.locator('#timeline-legend')).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(page.viewportSize()?.width ?? 1366);
  await screenshot(timeline, { path: `screenshots/timeline-${project()}.png` });

  // The drawing shown at this width (the other is hidden), and its first segment.
  const chart = timeline.locator(phone() ? 'div.sm\\:hidden svg' : 'div.sm\\:block svg');
  await expect(chart).toBeVisible();
  const segment = chart.locator('a[data-week]').first();
  const label = (await segment.getAttribute('aria-label')) ?? '';
  const week = (await segment.getAttribute('data-week')) ?? '';
  const count = Number(/: (\d+) expiring/.exec(label)?.[1]);
  expect(count).toBeGreaterThan(0);
  await segment.click();
  await expect(page).toHaveURL(new RegExp(`[?&]expires_from=${week}&expires_to=\\d{4}-\\d{2}-\\d{2}`));
  await expect(page).toHaveURL(/[?&]status=active/);
  await expect(page.locator('input[name="expires_from"]')).toHaveValue(week);
  const rows = page.locator('[data-testid="token-table"] tbody tr');
  await expect(rows).toHaveCount(Math.min(count, 50));
  await screenshot(page, { path: `screenshots/timeline-inventory-${project()}.png`, fullPage: true });
});

test('the week range is in the URL', async ({ page }) => {
  await signIn(page, 'sam.security', '/review');
  await page.locator('#timeline-range a[data-weeks="8"]').click();
  await expect(page).toHaveURL(/[?&]weeks=8/);
  await expect(page.locator('#timeline-title')).toHaveText('Tokens expiring in the next 8 weeks');
});

// The demo world, synced at start, has findings to stack by.
const synced = process.env.E2E_SYNCED_URL;

test.describe('on the synced demo world', () => {
  test.use({ baseURL: synced });

  test('the timeline stacks by severity and starts at any later week from its form', async ({ page }) => {
    test.skip(!synced, 'E2E_SYNCED_URL is not set');
    await signIn(page, 'sam.security', '/review');
    await page.locator('#timeline-stack a[data-stack="severity"]').click();
    await expect(page).toHaveURL(/[?&]stack=severity/);
    await expect(page.locator('#timeline-legend')).toHaveAttribute('aria-label', 'Most severe open finding');
    await expect(page.locator('#timeline-legend')).toContainText(/Critical|High|Medium|Low/);
    await screenshot(page.locator('#expiry-timeline'), { path: `screenshots/timeline-severity-${project()}.png` });

    // Eight weeks on, for four weeks: the form keeps the stacking.
    const thisWeek = (await page.locator('#timeline-from input[name="from"]').getAttribute('min')) ?? '';
    const later = new Date(`${thisWeek}T00:00:00Z`);
    later.setUTCDate(later.getUTCDate() + 56);
    const from = later.toISOString().slice(0, 10);
    await page.locator('#timeline-from input[name="from"]').fill(from);
    await page.locator('#timeline-from input[name="weeks"]').fill('4');
    await page.locator('#timeline-from button[type="submit"]').click();
    await expect(page).toHaveURL(new RegExp(`[?&]from=${from}`));
    await expect(page).toHaveURL(/[?&]stack=severity/);
    await expect(page.locator('#timeline-title')).toContainText('Tokens expiring in 4 weeks from');
    await expect(page.locator('#timeline-legend')).toHaveAttribute('aria-label', 'Most severe open finding');

    // Earlier weeks: four weeks back, still later than this week.
    const earlier = new Date(later);
    earlier.setUTCDate(earlier.getUTCDate() - 28);
    await page.locator('#timeline-steps a[rel="prev"]').click();
    await expect(page).toHaveURL(new RegExp(`[?&]from=${earlier.toISOString().slice(0, 10)}&weeks=4`));
    await page.locator('#timeline-steps a', { hasText: 'From this week' }).click();
    await expect(page.locator('#timeline-title')).toHaveText('Tokens expiring in the next 4 weeks');
  });
});

test('My team shows its own timeline', async ({ page }) => {
  await signIn(page, 'pat.lead', '/my-team');
  const timeline = page.locator('#expiry-timeline');
  await expect(timeline).toBeVisible();
  await screenshot(timeline, { path: `screenshots/timeline-my-team-${project()}.png` });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(page.viewportSize()?.width ?? 1366);
});
