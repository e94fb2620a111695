import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { Header } from '../pages/header';
import { InventoryPage } from '../pages/inventory';
import { hydrated, project } from '../pages/project';
import { signIn } from '../pages/session';

// The server was loaded with e2e/fixtures/inventory.json (12 tokens; expiries relative to today).

test.beforeEach(async ({ page }) => {
  await signIn(page, 'eli.eng');
});

test('the inventory lists every token from the database', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto();
  await expect(inventory.rows).toHaveCount(12);
  await expect(inventory.count).toHaveText('Showing 1–12 of 12');
  await expect(page.getByRole('heading', { name: 'Inventory' })).toBeVisible();
  // Relative expiry in words, the date on hover.
  const danger = inventory.rows.filter({ hasText: 'danger-bot' });
  await expect(danger.locator('time').first()).toHaveText('in 12 days');
  await expect(danger.locator('time').first()).toHaveAttribute('title', /^\d{4}-\d{2}-\d{2}$/);
  // Not only the colour says how soon: an icon with a name does too.
  await expect(danger.getByRole('img', { name: 'Due within 30 days' })).toBeVisible();
  await expect(inventory.rows.filter({ hasText: 'build-trigger' }).getByRole('img', { name: 'Due within a week' })).toBeVisible();
  await expect(inventory.rows.filter({ hasText: 'legacy-gitlab-bot' }).getByRole('img', { name: 'No expiry date' })).toBeVisible();
  await expect(inventory.rows.filter({ hasText: 'old-changelog-bot' }).locator('[data-status]')).toHaveText('revoked');
  await expect(danger.locator('[data-status]')).toHaveText('active');
  await expect(inventory.rows.filter({ hasText: 'omnibus-mirror' }).locator('[data-status]')).toHaveText('expired');
});

test('hydration runs with JavaScript on and the page still works without it', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto();
  if (hydrated()) {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  } else {
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', /.*/);
  }
});

test('filtering by kind puts the filter in the URL and lists only that kind', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto();
  // With JavaScript, choosing a kind submits the form by itself; without, the Apply button does.
  await inventory.filterByKind('deploy');
  await expect(page).toHaveURL(/[?&]kind=deploy/);
  await expect(inventory.rows).toHaveCount(2);
  expect(await inventory.kinds()).toEqual(['deploy', 'deploy']);
  await expect(inventory.kind).toHaveValue('deploy');
});

test('search finds tokens by name, path or account', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto();
  await inventory.searchFor('triage-ops');
  await expect(page).toHaveURL(/[?&]q=triage-ops/);
  await expect(inventory.rows).toHaveCount(3);
  expect((await inventory.names()).sort()).toEqual(['legacy-gitlab-bot', 'triage-ops-reactive', 'triage-ops-scheduled']);
});

test('a shared link reproduces the same view', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto('expiry=7d&sort=expires');
  await expect(inventory.expiry).toHaveValue('7d');
  expect(await inventory.names()).toEqual(['build-trigger', 'triage-ops-scheduled']);
  await inventory.goto('kind=nonsense');
  await expect(page.getByRole('alert')).toContainText('"nonsense" is not a known token kind');
});

test('column headers sort, and a second click reverses the order', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto('kind=project_access');
  await page.getByRole('link', { name: 'Expires' }).click();
  await expect(page).toHaveURL(/sort=expires/);
  await expect.poll(() => inventory.names()).toEqual([
    'old-changelog-bot',
    'allure-report-poster',
    'async-retrospectives',
    'legacy-gitlab-bot',
  ]);
  await page.getByRole('link', { name: /Expires/ }).click();
  await expect(page).toHaveURL(/dir=desc/);
  await expect.poll(() => inventory.names()).toEqual([
    'async-retrospectives',
    'allure-report-poster',
    'old-changelog-bot',
    'legacy-gitlab-bot',
  ]);
});

test('the header leads to every area', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto();
  const header = new Header(page);
  await header.goTo('Wizard');
  await expect(page).toHaveURL(/\/wizard$/);
  await expect(page.getByRole('heading', { name: 'Which token should I create?' })).toBeVisible();
  await header.goTo('Inventory');
  await expect(inventory.rows).toHaveCount(12);
});

test('the keyboard skips the header, and its focus is always visible', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to the content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await screenshot(page, { path: `screenshots/focus-skip-link-${project()}.png` });
  // The brand link, next: an outline marks it.
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement!);
    return `${style.outlineStyle} ${style.outlineWidth}`;
  });
  expect(outline).toBe('solid 2px');
  // Back to the skip link, which moves the focus to the content.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();
});

test('screenshot of the inventory', async ({ page }) => {
  const inventory = new InventoryPage(page, hydrated());
  await inventory.goto();
  await expect(inventory.rows).toHaveCount(12);
  await screenshot(page, { path: `screenshots/inventory-${project()}.png`, fullPage: true });
});

test('with JavaScript, Escape closes an open header menu and gives the focus back to its button', async ({ page }) => {
  test.skip(!hydrated(), 'without JavaScript the menu closes with its own button');
  const inventory = new InventoryPage(page, true);
  await inventory.goto();
  const menu = page.locator('details[data-menu="user"]');
  await menu.locator('summary').click();
  await expect(page.locator('#sign-out')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.locator('#sign-out')).toBeHidden();
  await expect(menu.locator('summary')).toBeFocused();
});
