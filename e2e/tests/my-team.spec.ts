import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { own, project } from '../pages/project';
import { signIn } from '../pages/session';

// Erin leads Engineering Productivity (Maintainer of acme/engineering-productivity in gitlab-sim's
// demo world). Its tokens in the fixture: danger-bot (expires in 12 days), triage-ops-scheduled
// (5 days), triage-ops-reactive and legacy-gitlab-bot (never), async-retrospectives (80 days).
// The projects run side by side: each edits a token of its own, found through an expiry window.
const mine = () =>
  own({
    hydrated: { window: '30d', rows: 2, token: 'danger-bot' },
    'no-js': { window: '30d', rows: 2, token: 'triage-ops-scheduled' },
    'hydrated-phone': { window: '90d', rows: 3, token: 'async-retrospectives' },
    'no-js-phone': { window: 'never', rows: 2, token: 'legacy-gitlab-bot' },
  });

test('a team lead opens My team, filters by expiry, sets a purpose and sees it in the list', async ({ page }) => {
  await signIn(page, 'erin.lead', '/my-team');
  await expect(page.locator('#team-name')).toHaveText('Engineering Productivity');
  await expect(page.locator('#attention')).toContainText('danger-bot');
  await screenshot(page, { path: `screenshots/my-team-${project()}.png`, fullPage: true });

  const { window, rows: count, token } = mine();
  await page.locator(`[data-window="${window}"]`).click();
  await expect(page).toHaveURL(new RegExp(`[?&]expiry=${window}`));
  await expect(page).toHaveURL(/[?&]team=\d+/);
  const list = page.url();
  const rows = page.locator('[data-testid="token-table"] tbody tr');
  await expect(rows).toHaveCount(count);

  await rows.getByRole('link', { name: token }).click();
  await expect(page.getByRole('heading', { name: token, level: 1 })).toBeVisible();
  await expect(page.locator('#owner-team')).toContainText('inferred from the group path');
  const purpose = `Merge request hygiene (${project()})`;
  await page.getByLabel('Purpose').fill(purpose);
  await page.getByLabel('Secret kept in').fill('vault: engineering-productivity/bots');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#ownership-saved')).toBeVisible();
  await expect(page.locator('#purpose')).toHaveText(purpose);
  await screenshot(page, { path: `screenshots/token-${project()}.png`, fullPage: true });

  await page.goto(list);
  await expect(rows.filter({ hasText: token })).toContainText(purpose);
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
  await screenshot(page, { path: `screenshots/teams-${project()}.png`, fullPage: true });
  await ep.getByRole('link', { name: 'Engineering Productivity' }).click();
  await expect(page.locator('#team-name')).toHaveText('Engineering Productivity');
});
