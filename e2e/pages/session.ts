import { expect, type Page } from '@playwright/test';
import { Header } from './header';

/**
 * Signs in through the real redirect flow: the app sends the browser to gitlab-sim's consent
 * page, the person picks who they are, GitLab sends them back. Works with JavaScript off too: every
 * step is a link, a redirect or a plain form.
 */
export async function signIn(page: Page, username: string, next = '/') {
  await page.goto(`/auth/sign-in?next=${encodeURIComponent(next)}`);
  await expect(page.getByRole('heading', { name: 'Sign in to gitlab-sim' })).toBeVisible();
  await page.getByRole('button', { name: `(${username})`, exact: false }).first().click();
  await expect(page.locator('#signed-in-as')).toHaveAttribute('data-username', username);
}

/** The sign-out button in the person's menu (a POST form). */
export async function signOut(page: Page) {
  await new Header(page).openUserMenu();
  await page.locator('#sign-out').click();
  await expect(page.getByRole('heading', { name: 'You are signed out' })).toBeVisible();
}
