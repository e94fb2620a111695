import { expect, test } from '@playwright/test';
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
  await timeline.screenshot({ path: `screenshots/timeline-${project()}.png` });

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
  await page.screenshot({ path: `screenshots/timeline-inventory-${project()}.png`, fullPage: true });
});

test('the week range is in the URL', async ({ page }) => {
  await signIn(page, 'sam.security', '/review');
  await page.locator('#timeline-range a[data-weeks="8"]').click();
  await expect(page).toHaveURL(/[?&]weeks=8/);
  await expect(page.locator('#timeline-title')).toHaveText('Tokens expiring in the next 8 weeks');
});
