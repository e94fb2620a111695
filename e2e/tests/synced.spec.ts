import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { live, own, project } from '../pages/project';
import { signIn } from '../pages/session';

// A second server syncs gitlab-sim's demo world at start (`cargo xtask e2e`): what sync brings in
// is seen here as GitLab gave it, not as a fixture says.
const synced = process.env.E2E_SYNCED_URL;
test.use({ baseURL: synced });

test('security sees the sync that ran at start, then the service accounts it found and what they reach', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  await signIn(page, 'sam.security', '/sync');
  const run = page.locator('#sync-runs tr[data-run]').first();
  await expect(async () => {
    await page.reload();
    await expect(run).toHaveAttribute('data-status', 'succeeded', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await screenshot(page, { path: `screenshots/sync-${project()}.png`, fullPage: true });

  await page.goto('/service-accounts');
  const triage = page.locator('#service-accounts [data-account$="_triage_ops"]');
  await expect(triage).toContainText('Triage Ops');
  await expect(triage).toContainText('in acme');
  const release = page.locator('#service-accounts [data-account$="_release_tools"]');
  await expect(release).toContainText('Release Tools Bot');
  // What it can reach: Maintainer of the Delivery group, linked to GitLab.
  const delivery = release.locator('[data-membership="acme/delivery"]');
  await expect(delivery).toHaveAttribute('data-role', 'Maintainer');
  await expect(delivery.getByRole('link', { name: 'acme/delivery' })).toHaveAttribute('href', /\/groups\/acme\/delivery$/);
  await screenshot(page, { path: `screenshots/service-accounts-${project()}.png`, fullPage: true });
});

test('security gives a service account its owner team, and its tokens go to that team', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  // The projects run at once on the same server: each changes its own account. Two have no
  // owner team; two have one inferred, as everything they reach is one team's
  // (e2e/fixtures/teams.toml).
  const { suffix, token, inferred } = own({
    hydrated: { suffix: '_gitlab_bot', token: 'gitlab-bot-triage', inferred: null },
    'no-js': { suffix: '_triage_ops', token: 'triage-ops-scheduled', inferred: null },
    'hydrated-phone': { suffix: '_omnibus_mirror', token: 'omnibus-mirror', inferred: 'Distribution' },
    'no-js-phone': { suffix: '_release_tools', token: 'runner-release', inferred: 'Delivery' },
  });
  await signIn(page, 'sam.security', '/service-accounts');
  const card = page.locator(`#service-accounts [data-account$="${suffix}"]`);
  const owner = card.locator('[data-owner]');
  const unset = async () => {
    if (inferred) {
      await expect(owner).toHaveAttribute('data-owner', inferred);
      await expect(owner).toContainText('inferred: everything it can reach is the team');
    } else {
      await expect(card).toContainText('No owner team');
    }
  };
  await unset();

  await card.getByLabel('Owner team').selectOption({ label: 'Engineering Productivity' });
  await card.getByRole('button', { name: 'Save owner' }).click();
  await expect(card.getByRole('status')).toHaveText('Owner saved');
  await expect(owner).toHaveAttribute('data-owner', 'Engineering Productivity');
  await expect(owner).toContainText('set by sam.security');
  await card.scrollIntoViewIfNeeded();
  await screenshot(page, { path: `screenshots/service-account-owner-${project()}.png` });

  // Its tokens are now the team's.
  await page.goto(`/?q=${token}`);
  const row = page.locator('[data-testid="token-table"] tbody tr', { hasText: token });
  await expect(row).toContainText('Engineering Productivity');
  await row.getByRole('link', { name: token }).click();
  await expect(page.locator('#owner-team')).toContainText('Engineering Productivity');
  await expect(page.locator('#owner-team')).toContainText('inferred from its service account');
  await screenshot(page, { path: `screenshots/service-account-token-${project()}.png`, fullPage: true });

  // Taken back: as it was.
  await page.goto('/service-accounts');
  await card.getByLabel('Owner team').selectOption({ value: '' });
  await card.getByRole('button', { name: 'Save owner' }).click();
  await expect(card.getByRole('status')).toHaveText('Owner saved');
  await unset();
});

test('security starts a sync from the Sync page, and the page shows it through to the end', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  await signIn(page, 'sam.security', '/sync');
  await live(page);
  // The projects press it at once on one server: each sees a manual run (the scheduler queues
  // a run asked for while one is under way).
  await page.evaluate(() => ((window as unknown as { before: boolean }).before = true));
  await page.locator('#sync-now').click();
  // With JavaScript the island starts the run in place, then loads the page again to show it;
  // without, the form posts and the server sends the browser back here.
  await expect(async () => {
    expect(await page.evaluate(() => (window as unknown as { before?: boolean }).before ?? null)).toBeNull();
  }).toPass({ timeout: 10_000 });
  // (Without JavaScript the server function sends the browser back with an empty query: `/sync?`.)
  await expect(page).toHaveURL(/\/sync\??$/);
  const manual = page.locator('#sync-runs tr[data-run]').filter({ hasText: 'manual' }).first();
  await expect(async () => {
    await page.reload();
    await expect(manual).toHaveAttribute('data-status', 'succeeded', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
});
