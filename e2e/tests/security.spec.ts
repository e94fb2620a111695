import { expect, test, type Page } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { own, project } from '../pages/project';
import { signIn } from '../pages/session';

// Script in every person-written field, hydrated and with JavaScript off: nothing runs, no
// element of it is made, and the text is shown as it was typed. On the synced server (the
// fixture's counts stay as the inventory journeys expect them); each project edits its own token,
// one that no other journey on that server answers or decides on: a purpose set here resolves the
// token's "no purpose" finding (the review's journeys decide on those), and an ownership edit
// answers a flag at recertification (that journey flags the first token of its team's pass).
const synced = process.env.E2E_SYNCED_URL;
test.use({ baseURL: synced });
const tokenFor = () =>
  own({
    hydrated: 'danger-bot',
    'no-js': 'warehouse-sync',
    'hydrated-phone': 'scanner-image-pull',
    'no-js-phone': 'housekeeping-admin',
  });

/** Ends every raw-text element (`textarea`, `title`, `script`, `style`) and runs script if it
 * lands anywhere unescaped: an image whose error handler opens a dialog, and a script. */
const payload = (field: string) =>
  `</textarea></title></style><img src=x data-xss="${field}" onerror="alert('${field}')"><script>alert('${field}')</script>`;

/** The same, short enough for fields of at most 60 characters (the wizard's purpose). */
const short = (field: string) => `</textarea><img src=x data-xss=${field} onerror=alert(1)>`;

/** A field by its name: a label's accessible name includes the text of the field inside it. */
const field = (page: Page, name: string) => page.locator(`[name="${name}"]`).first();

/** Fails the test if a dialog opened or an element of the payload exists in the page. */
function watch(page: Page) {
  const dialogs: string[] = [];
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  return async (where: string) => {
    expect(dialogs, `a dialog opened on ${where}`).toEqual([]);
    await expect(page.locator('[data-xss]'), `an element of the payload on ${where}`).toHaveCount(0);
    await expect(page.locator('body script:not([nonce])'), `a script without the nonce on ${where}`).toHaveCount(0);
  };
}

test('script typed into the ownership form is stored and shown as text', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  const inert = watch(page);
  await signIn(page, 'sam.security', `/?q=${tokenFor()}`);
  await page.getByRole('link', { name: tokenFor(), exact: true }).first().click();
  await expect(page.getByRole('heading', { name: tokenFor(), level: 1 })).toBeVisible();
  for (const name of ['purpose', 'automation', 'secret_location', 'notes']) {
    await field(page, name).fill(payload(name));
  }
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#ownership-saved')).toBeVisible();
  await inert('the token page after saving');
  await expect(page.locator('#purpose')).toHaveText(payload('purpose'));
  await expect(field(page, 'notes')).toHaveValue(payload('notes'));
  await expect(field(page, 'automation')).toHaveValue(payload('automation'));
  await expect(page).toHaveTitle(`${tokenFor()} · Token Inventory`);
  const tokenPage = page.url().split('?')[0];

  // Where security reads it: a fresh load of the token page, and the inventory's row.
  await page.goto(tokenPage);
  await inert('the token page');
  await expect(page.locator('#ownership dd').filter({ hasText: 'alert(\'notes\')' })).toHaveText(payload('notes'));
  await page.goto(`/?q=${tokenFor()}`);
  await inert('the inventory');
  await expect(page.locator('[data-testid="token-table"] tbody tr', { hasText: tokenFor() })).toContainText(
    payload('purpose'),
  );
  await screenshot(page, { path: `screenshots/escaped-ownership-${project()}.png`, fullPage: true });
});

test('script in the address of the ownership form comes back as the field text', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  const inert = watch(page);
  await signIn(page, 'sam.security', `/?q=${tokenFor()}`);
  await page.getByRole('link', { name: tokenFor(), exact: true }).first().click();
  await expect(page.getByRole('heading', { name: tokenFor(), level: 1 })).toBeVisible();
  const tokenPage = page.url().split('?')[0];
  const query = new URLSearchParams({ edit: '1', notes: payload('notes'), purpose: payload('purpose') });
  await page.goto(`${tokenPage}?${query}`);
  await inert('the token page with the notes in its address');
  await expect(field(page, 'notes')).toHaveValue(payload('notes'));
  await expect(field(page, 'purpose')).toHaveValue(payload('purpose'));
});

test("script in the wizard's answers is shown as text on the summary", async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  const inert = watch(page);
  await signIn(page, 'eli.eng', '/wizard');
  const answers = new URLSearchParams({
    repository: 'reads',
    reach: 'one_project',
    maintainer_actions: 'no',
    temporary: 'no',
    purpose: short('purpose'),
    owner_team: short('owner_team'),
    path: 'acme/platform/api',
  });
  await page.goto(`/wizard?${answers}`);
  await expect(page.getByTestId('recommendation')).toBeVisible();
  await inert('the wizard summary');
  await expect(field(page, 'owner_team')).toHaveValue(short('owner_team'));
  await expect(field(page, 'purpose')).toHaveValue(short('purpose'));
});

test("an API key's name is shown as text when created and listed", async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  const inert = watch(page);
  await signIn(page, 'eli.eng', '/account/api-keys');
  const name = short(`key-${project()}`);
  await field(page, 'name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByRole('heading', { name: 'API key created' })).toBeVisible();
  await inert('the new key page');
  await expect(page.locator('dd').first()).toHaveText(name);
  await page.goto('/account/api-keys');
  await inert('the API keys page');
  await expect(page.locator('#api-keys')).toContainText(name);
});
