import { expect, test, type Page } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { expectAccessible } from '../pages/a11y';
import { Header } from '../pages/header';
import { hydrated, project } from '../pages/project';
import { signIn, signOut } from '../pages/session';

// Every page of the product, signed in as security (who sees the most) on the server that synced
// gitlab-sim's demo world, and the sign-in pages: each passes axe-core with no serious or critical
// violation, is no wider than the window and is photographed at this project's width (and,
// hydrated at a laptop's, at a tablet's too: 768 px). Only a table's own box may scroll sideways,
// never the page.
const synced = process.env.E2E_SYNCED_URL;
test.use({ baseURL: synced });

const laptop = { width: 1366, height: 768 };
const tablet = { width: 768, height: 1024 };

async function visit(page: Page, path: string) {
  await page.goto(path);
  if (hydrated()) {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }
}

/** Nothing sticks out of the window: the page does not scroll sideways. */
async function expectNoSidewaysScroll(page: Page, where: string) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${where} is wider than the window`).toBeLessThanOrEqual(0);
}

/** The accessibility check, the width check and a screenshot at this project's width; in the
 * hydrated laptop project the width check and a screenshot at a tablet's too (its layout is the
 * laptop's table with the phone's menu, both checked already). */
async function check(page: Page, name: string) {
  const where = `${name} (${project()})`;
  // A page reached by a form's answer (an API key created) is measured once its stylesheet is
  // in: before, its text is laid out unstyled, and the full run once measured it 25 px too wide.
  await page.waitForLoadState('load');
  await expectNoSidewaysScroll(page, where);
  await expectAccessible(page, where);
  await screenshot(page, { path: `screenshots/page-${name}-${project()}.png`, fullPage: true });
  if (project() === 'hydrated') {
    await page.setViewportSize(tablet);
    await expectNoSidewaysScroll(page, `${name} (${project()}, ${tablet.width} px)`);
    await screenshot(page, { path: `screenshots/page-${name}-${project()}-${tablet.width}.png`, fullPage: true });
    await page.setViewportSize(laptop);
  }
}

// Several pages a test, each checked at one or two widths.
test.describe.configure({ timeout: 90_000 });

test.beforeEach(() => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
});

test('the inventory, its menus and token pages pass the accessibility check', async ({ page }) => {
  await signIn(page, 'sam.security', '/');
  await visit(page, '/');
  await check(page, 'inventory');

  // The header's menus, open.
  const header = new Header(page);
  await header.openUserMenu();
  await header.openMenu();
  await expectAccessible(page, `the header's menus (${project()})`);
  await screenshot(page, { path: `screenshots/page-menus-${project()}.png` });

  // A token's page: a deploy token's, as GitLab does not say when it was created and the page
  // says so.
  await visit(page, '/?kind=deploy&sort=name');
  await page.locator('[data-testid="token-table"] tbody tr').first().getByRole('link').first().click();
  await expect(page.locator('[data-no-value="GitLab does not say when a deploy token was created"]')).toBeVisible();
  await check(page, 'token');
});

test('the team pages pass the accessibility check', async ({ page }) => {
  await signIn(page, 'sam.security', '/my-team');
  await expect(page.locator('#team-name')).toHaveText('Security');
  await check(page, 'my-team');
  await visit(page, '/teams');
  await check(page, 'teams');
  await visit(page, '/service-accounts');
  await expect(page.locator('#service-accounts')).toBeVisible();
  await check(page, 'service-accounts');
});

test("the wizard's steps and summaries pass the accessibility check", async ({ page }) => {
  await signIn(page, 'sam.security', '/wizard');
  await expect(page.locator('form[data-step="touches"]')).toBeVisible();
  await check(page, 'wizard-touches');
  await visit(page, '/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&step=details');
  await expect(page.locator('form[data-step="details"]')).toBeVisible();
  await check(page, 'wizard-details');
  // A step answered wrongly: the message next to the field.
  await visit(page, '/wizard?from=touches');
  await expect(page.locator('[data-error-for="touches"]')).toBeVisible();
  await check(page, 'wizard-error');
  await visit(page, '/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&purpose=docs+mirror&path=acme/platform/docs');
  await expect(page.getByTestId('recommendation')).toHaveAttribute('data-kind', 'project_deploy_token');
  await check(page, 'wizard-summary');
  await visit(
    page,
    '/wizard?api=writes&reach=several_groups&maintainer_actions=yes&confidential_issues=yes&temporary=no&purpose=triage&owner_team=Engineering+Productivity',
  );
  await expect(page.getByTestId('recommendation')).toHaveAttribute('data-kind', 'service_account');
  await check(page, 'wizard-service-account');
});

test('sync, API keys, the areas still to come and a missing page pass the accessibility check', async ({ page }) => {
  await signIn(page, 'sam.security', '/sync');
  await expect(page.locator('#sync-runs')).toBeVisible();
  await check(page, 'sync');

  await visit(page, '/account/api-keys');
  await page.getByLabel('Name').fill(`accessibility ${project()}`);
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByRole('heading', { name: 'API key created' })).toBeVisible();
  await check(page, 'api-key-created');
  await visit(page, '/account/api-keys');
  await expect(page.locator('#api-keys')).toBeVisible();
  await check(page, 'api-keys');

  await visit(page, '/review');
  await check(page, 'review');
  await visit(page, '/requests');
  await check(page, 'requests');
  await visit(page, '/recertification');
  await expect(page.locator('#open-campaign')).toBeVisible();
  await check(page, 'recertification');
  const missing = await page.goto('/no-such-page');
  expect(missing?.status()).toBe(404);
  await check(page, 'not-found');
});

test('the request pages and the inbox pass the accessibility check', async ({ page }) => {
  await signIn(page, 'sam.security', '/requests/new?api=writes&reach=several_groups&maintainer_actions=yes&confidential_issues=no&temporary=no&path=acme&owner_team=Security&purpose=scanner');
  await expect(page.locator('#account_name')).toHaveValue('security-scanner');
  await check(page, 'request-form');
  // A draft of this project's own, and its page.
  await page.locator('#account_name').fill(`security-scanner-${project()}`);
  await page.locator('#save-draft').click();
  await expect(page.locator('#done')).toHaveText('Draft saved.');
  await check(page, 'request');
  await visit(page, '/inbox');
  await check(page, 'inbox');
});

test('the sign-in pages pass the accessibility check', async ({ page }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(401);
  await check(page, 'sign-in-required');

  await page.goto('/auth/sign-in');
  await page.getByRole('button', { name: 'Deny' }).click();
  await expect(page.locator('#auth-error')).toBeVisible();
  await check(page, 'sign-in-failed');

  await signIn(page, 'eli.eng');
  await signOut(page);
  await check(page, 'signed-out');
});
