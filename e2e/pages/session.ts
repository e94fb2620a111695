import { expect, type BrowserContext, type Page } from '@playwright/test';
import { Header } from './header';

type Cookie = Awaited<ReturnType<BrowserContext['cookies']>>[number];

/** The sessions this worker signed in, by server and username, for later journeys to reuse. */
const sessions = new Map<string, Cookie[]>();

/**
 * Signs in through the real redirect flow: the app sends the browser to gitlab-sim's consent
 * page, the person picks who they are, GitLab sends them back to `next`. Works with JavaScript off
 * too: every step is a link, a redirect or a plain form.
 *
 * The session is kept for the worker's later journeys as the same person on the same server (a
 * sign-in is the slowest step of most journeys); `fresh` signs in anew all the same. A kept
 * session that no longer works (signed out) is dropped and the person signs in again.
 */
export async function signIn(page: Page, username: string, next = '/', { fresh = false } = {}) {
  // The server's address: the context's base URL, as the API request context resolves it.
  const origin = new URL((await page.request.get('/healthz')).url()).origin;
  const key = `${origin} ${username}`;
  const kept = fresh ? undefined : sessions.get(key);
  if (kept) {
    await page.context().addCookies(kept);
    await page.goto(next);
    const signedIn = page.locator(`#signed-in-as[data-username="${username}"]`);
    if (await signedIn.waitFor({ state: 'attached', timeout: 2_000 }).then(() => true, () => false)) {
      return;
    }
    sessions.delete(key);
    await page.context().clearCookies();
  }
  await page.goto(`/auth/sign-in?next=${encodeURIComponent(next)}`);
  await expect(page.getByRole('heading', { name: 'Sign in to gitlab-sim' })).toBeVisible();
  await page.getByRole('button', { name: `(${username})`, exact: false }).first().click();
  await expect(page.locator('#signed-in-as')).toHaveAttribute('data-username', username);
  sessions.set(key, (await page.context().cookies(origin)).filter((cookie) => cookie.name === 'ti_session'));
}

/** The sign-out button in the person's menu (a POST form). The session is not kept any more. */
export async function signOut(page: Page) {
  const session = (await page.context().cookies()).find((cookie) => cookie.name === 'ti_session')?.value;
  await new Header(page).openUserMenu();
  await page.locator('#sign-out').click();
  await expect(page.getByRole('heading', { name: 'You are signed out' })).toBeVisible();
  for (const [key, cookies] of sessions) {
    if (cookies.some((cookie) => cookie.value === session)) sessions.delete(key);
  }
}
