import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { expectAccessible } from '../pages/a11y';
import { hydrated, project } from '../pages/project';
import { signIn } from '../pages/session';

// The Alerts page on the server that synced the demo world, whose teams file sends every team's
// digest but Data's to gitlab-sim's chat sink (e2e/fixtures/teams.toml).
const synced = process.env.E2E_SYNCED_URL;
test.use({ baseURL: synced });

test('security sees every team\'s channel, never its address, and sends the digest now', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  await signIn(page, 'sam.security', '/review');
  await page.getByRole('link', { name: /^Alerts/ }).click();
  await expect(page.getByRole('heading', { name: 'Alerts', level: 1 })).toBeVisible();
  if (hydrated()) {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }
  const channels = page.locator('#alert-channels');
  await expect(channels.locator('tr', { hasText: 'Platform' })).toContainText('Webhook configured');
  await expect(channels.locator('tr', { hasText: 'Data' })).toContainText('None: the review reports its tokens');
  await expect(channels.locator('tr', { hasText: 'Security (the organisation' })).toContainText('Webhook configured');
  await expect(page.locator('main')).not.toContainText('/-/sim/chat');

  // Works without JavaScript: a plain form's POST, answered by the page again.
  await page.getByRole('button', { name: "Send today's digest now" }).click();
  await expect(page.locator('#alerts-sent')).toBeVisible();
  await expect(page).toHaveURL(/\/review\/alerts\?sent=\d+$/);
  // The day's digests went out (at start, after the first sync, or just now): each delivered.
  await expect(page.locator('#alert-deliveries tr[data-state="sent"]').first()).toBeVisible();
  await expect(page.locator('#alert-deliveries')).toContainText('Token digest for the organisation');

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'the Alerts page is wider than the window').toBeLessThanOrEqual(0);
  await expectAccessible(page, `alerts (${project()})`);
  await screenshot(page, { path: `screenshots/page-alerts-${project()}.png`, fullPage: true });
});

test('an engineer is refused the Alerts page', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  await signIn(page, 'eli.eng', '/');
  const answer = await page.goto('/review/alerts');
  expect(answer?.status()).toBe(403);
});
