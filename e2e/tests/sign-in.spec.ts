import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { project } from '../pages/project';
import { signIn, signOut } from '../pages/session';

// gitlab-sim's demo world: Eli is an engineer, Erin leads Engineering Productivity (Maintainer of
// its group), Sam leads the Security team and is in acme/security (security), root is the configured administrator. The
// browser tests' server reads a fixture and does not sync, so security is told how to set sync
// up where the "Sync now" button would be (tests/http.rs presses the button against gitlab-sim).

test('anyone not signed in is asked to, and comes back where they were going', async ({ page }) => {
  const response = await page.goto('/sync');
  expect(response?.status()).toBe(401);
  await expect(page.getByRole('heading', { name: 'Sign in to continue' })).toBeVisible();
  await page.getByRole('link', { name: 'Sign in with GitLab' }).click();
  await page.getByRole('button', { name: '(eli.eng)' }).click();
  await expect(page).toHaveURL(/\/sync$/);
  await expect(page.getByRole('heading', { name: 'Sync' })).toBeVisible();
});

const roles = [
  { username: 'eli.eng', badge: null, syncNow: false },
  { username: 'erin.lead', badge: 'Team lead', syncNow: false },
  { username: 'sam.security', badge: 'Team lead, Security', syncNow: true },
  { username: 'root', badge: 'Admin', syncNow: true },
];

for (const role of roles) {
  test(`${role.username} signs in and sees what that role may see`, async ({ page }) => {
    await signIn(page, role.username, '/sync', { fresh: true });
    if (role.badge) {
      await expect(page.locator('#roles')).toHaveText(role.badge);
    } else {
      await expect(page.locator('#roles')).toHaveCount(0);
    }
    await expect(page.locator('#sync-not-configured')).toHaveCount(role.syncNow ? 1 : 0);
    await expect(page.locator('#sync-for-security')).toHaveCount(role.syncNow ? 0 : 1);
    await screenshot(page, { path: `screenshots/sync-${role.username}-${project()}.png`, fullPage: true });
  });
}

test('a denied consent leaves the person signed out with a clear message', async ({ page }) => {
  await page.goto('/auth/sign-in');
  await page.getByRole('button', { name: 'Deny' }).click();
  await expect(page.locator('#auth-error')).toContainText('You did not allow Token Inventory');
  const response = await page.goto('/');
  expect(response?.status()).toBe(401);
});

test('sign-out ends the session', async ({ page }) => {
  await signIn(page, 'eli.eng');
  await signOut(page);
  const response = await page.goto('/');
  expect(response?.status()).toBe(401);
});

test('an API key is shown once, then only by its prefix, and can be revoked', async ({ page }) => {
  await signIn(page, 'eli.eng', '/account/api-keys');
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
  await page.getByLabel('Name').fill(`report ${project()}`);
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.locator('#api-key-secret').textContent()) ?? '';
  expect(secret).toMatch(/^ti_[a-z0-9]{8}_[A-Za-z0-9]{40}$/);
  await screenshot(page, { path: `screenshots/api-key-created-${project()}.png`, fullPage: true });
  await page.getByRole('link', { name: 'Back to your API keys' }).click();
  const row = page.locator('#api-keys tr', { hasText: `report ${project()}` });
  await expect(row).toContainText(secret.slice(0, 11));
  expect(await page.content()).not.toContain(secret);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.locator('#api-keys tr', { hasText: `report ${project()}` })).toContainText('revoked');
});
