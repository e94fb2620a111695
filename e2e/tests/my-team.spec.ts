import { expect, test } from '@playwright/test';
import { signIn } from '../pages/session';

// Erin leads Engineering Productivity (Maintainer of acme/engineering-productivity in gitlab-sim's
// demo world). Its tokens in the fixture: danger-bot (expires in 12 days), triage-ops-scheduled
// (5 days), triage-ops-reactive and legacy-gitlab-bot (never), async-retrospectives (80 days).
const project = () => test.info().project.name;
// The two projects run side by side: each edits a token of its own.
const tokenFor = () => (project() === 'hydrated' ? 'danger-bot' : 'triage-ops-scheduled');

test('a team lead opens My team, filters to 30 days, sets a purpose and sees it in the list', async ({ page }) => {
  await signIn(page, 'erin.lead', '/my-team');
  await expect(page.locator('#team-name')).toHaveText('Engineering Productivity');
  await expect(page.locator('#attention')).toContainText('danger-bot');
  await page.screenshot({ path: `screenshots/my-team-${project()}.png`, fullPage: true });

  await page.locator('[data-window="30d"]').click();
  await expect(page).toHaveURL(/[?&]expiry=30d/);
  await expect(page).toHaveURL(/[?&]team=\d+/);
  const list = page.url();
  const rows = page.locator('[data-testid="token-table"] tbody tr');
  await expect(rows).toHaveCount(2);

  await rows.getByRole('link', { name: tokenFor() }).click();
  await expect(page.getByRole('heading', { name: tokenFor(), level: 1 })).toBeVisible();
  await expect(page.locator('#owner-team')).toContainText('inferred from the group path');
  const purpose = `Merge request hygiene (${project()})`;
  await page.getByLabel('Purpose').fill(purpose);
  await page.getByLabel('Secret kept in').fill('vault: engineering-productivity/bots');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#ownership-saved')).toBeVisible();
  await expect(page.locator('#purpose')).toHaveText(purpose);
  await page.screenshot({ path: `screenshots/token-${project()}.png`, fullPage: true });

  await page.goto(list);
  await expect(rows.filter({ hasText: tokenFor() })).toContainText(purpose);
});

test('a refused value comes back with a message next to its field', async ({ page }) => {
  await signIn(page, 'erin.lead', '/my-team');
  await page.locator('#attention').getByRole('link', { name: 'triage-ops-reactive' }).click();
  await page.getByLabel('Secret kept in').fill('glpat-aaaaaaaaaaaaaaaaaaaaaaaa');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#error-secret_location')).toContainText('never paste secrets');
  expect(page.url()).not.toContain('glpat-');
});

test('an engineer sees a token but cannot edit what is said about it', async ({ page }) => {
  await signIn(page, 'eli.eng', '/?q=async-retrospectives');
  await page.getByRole('link', { name: 'async-retrospectives' }).click();
  await expect(page.getByRole('heading', { name: 'async-retrospectives', level: 1 })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
  await expect(page.locator('#no-team')).toHaveCount(0);
});

test('the teams page shows each team with its leads and the health of its tokens', async ({ page }) => {
  await signIn(page, 'sam.security', '/teams');
  const ep = page.locator('#teams tr[data-team="Engineering Productivity"]');
  await expect(ep).toContainText('acme/engineering-productivity');
  await expect(page.locator('#teams tr[data-team="Platform"]')).toContainText('pat.lead');
  await page.screenshot({ path: `screenshots/teams-${project()}.png`, fullPage: true });
  await ep.getByRole('link', { name: 'Engineering Productivity' }).click();
  await expect(page.locator('#team-name')).toHaveText('Engineering Productivity');
});
