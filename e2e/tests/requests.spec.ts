import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { hydrated, live, own, project } from '../pages/project';
import { signIn } from '../pages/session';

// Service-account requests on the server that synced gitlab-sim's demo world (its groups and
// projects are what a request's memberships name). Each project files its own account, so the
// projects, running at once, never meet.
const synced = process.env.E2E_SYNCED_URL;
test.use({ baseURL: synced });

/** The wizard's answers that lead to a service account: Maintainer actions across groups. */
const wizard =
  '/wizard?api=writes&reach=several_groups&maintainer_actions=yes&confidential_issues=no&temporary=no' +
  '&path=acme&owner_team=Platform&purpose=release+notes';

test('an engineer goes from the wizard to a filled-in request, the lead endorses it, security approves and creates it in GitLab, the requester sees its token once', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  // Four people and a dozen pages: longer than one journey's usual 30 s at a phone's width.
  test.slow();
  const name = own({
    hydrated: 'platform-release-notes-a',
    'no-js': 'platform-release-notes-b',
    'hydrated-phone': 'platform-release-notes-c',
    'no-js-phone': 'platform-release-notes-d',
  });
  await signIn(page, 'paula.eng', wizard);
  await expect(page.getByTestId('recommendation')).toHaveAttribute('data-kind', 'service_account');
  await page.locator('#request-it').click();

  // The form, filled in from the wizard's answer.
  await expect(page).toHaveURL(/\/requests\/new\?/);
  await expect(page.locator('#account_name')).toHaveValue('platform-release-notes');
  await expect(page.locator('#owner_team option:checked')).toHaveText('Platform');
  await expect(page.locator('input[name="scopes"][value="api"]')).toBeChecked();
  await expect(page.locator('#memberships')).toHaveValue('acme maintainer');
  await expect(page.locator('#lifetime_days')).toHaveValue('90');

  // With JavaScript the name is checked as it is typed; without, when the form is sent.
  if (hydrated()) {
    await live(page);
    await page.locator('#account_name').fill('release bot');
    await expect(page.locator('#account_name-live')).toContainText('naming convention');
    await page.locator('#account_name').fill(name);
    await expect(page.locator('#account_name-live')).toHaveText('Free, and on the naming convention.');
  }

  // Sent half done: each missing answer says so, and what was written stays.
  await page.locator('#account_name').fill(name);
  await page.locator('#send-request').click();
  await expect(page.locator('#error-why_not_token')).toContainText('required');
  await expect(page.locator('#error-runs_on')).toContainText('required');
  await expect(page.locator('#account_name')).toHaveValue(name);
  await screenshot(page, { path: `screenshots/request-form-${project()}.png`, fullPage: true });

  await page.locator('#memberships').fill('acme/platform maintainer\nacme/delivery/changelog developer');
  await page.locator('#automation').fill('the release pipeline');
  await page.locator('#runs_on').fill('acme/delivery/release-tools CI');
  await page.locator('#secret_location').fill('vault: platform/release-notes');
  await page.locator('#why_not_token').fill('Maintainer quick actions in the groups of two teams');
  await page.locator('#send-request').click();
  await expect(page.locator('#done')).toHaveText("Sent to the team's lead.");
  const request = new URL(page.url()).pathname;
  await expect(page.locator('[data-state]').first()).toHaveAttribute('data-state', 'submitted');

  // The lead endorses it.
  await signIn(page, 'pat.lead', request);
  await live(page);
  await page.locator('#step-endorse').click();
  await expect(page.locator('#done')).toContainText('waiting for security');

  // Security approves it and creates it in GitLab (this server has a write credential): the
  // account and its memberships; the first token is left to the requester.
  await signIn(page, 'sam.security', '/requests');
  await page.locator('#waiting').getByRole('link', { name, exact: true }).click();
  await live(page);
  await page.locator('#step-approve').click();
  await expect(page.locator('#how-to-create')).toHaveCount(0);
  await expect(page.locator('#step-fulfil')).toHaveText('Create it in GitLab');
  await page.locator('#step-fulfil').click();
  await expect(page.locator('#done')).toContainText('Made in GitLab');
  await expect(page.locator('[data-state]').first()).toHaveAttribute('data-state', 'fulfilled');
  const timeline = page.locator('#timeline li');
  await expect(timeline).toHaveCount(4);
  await expect(timeline.nth(1)).toContainText('pat.lead endorsed it');
  await expect(timeline.nth(3)).toContainText('made in GitLab through the API');
  await expect(page.locator('#first-token')).toContainText('paula.eng makes its first token');
  await expect(page.locator('#make-token')).toHaveCount(0);
  await screenshot(page, { path: `screenshots/request-created-${project()}.png`, fullPage: true });

  // The requester makes the first token and sees its secret, once.
  await signIn(page, 'paula.eng', request);
  await page.locator('#make-token').click();
  await expect(page.locator('#token-secret')).toHaveText(/^glpat-/);
  await expect(page.locator('main')).toContainText('vault: platform/release-notes');
  await screenshot(page, { path: `screenshots/request-token-${project()}.png`, fullPage: true });
  await page.goto(request);
  await expect(page.locator('#first-token')).toContainText('who saw its secret once');
  await expect(page.locator('#make-token')).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText('glpat-');

  // The sync that followed shows the account, owned by the request's team.
  await expect(async () => {
    await page.goto(`/service-accounts#account-${name}`);
    await expect(page.locator(`[data-account="${name}"] [data-owner]`)).toHaveAttribute('data-owner', 'Platform', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await page.locator(`[data-account="${name}"]`).scrollIntoViewIfNeeded();
  await screenshot(page, { path: `screenshots/request-account-${project()}.png` });

  // The requester sees it done among their requests.
  await page.goto('/requests');
  await expect(page.locator('#mine').getByRole('link', { name, exact: true })).toBeVisible();
  await screenshot(page, { path: `screenshots/requests-${project()}.png`, fullPage: true });
});

test('a lead cannot approve, and nobody endorses their own request', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  const name = own({
    hydrated: 'platform-docs-a',
    'no-js': 'platform-docs-b',
    'hydrated-phone': 'platform-docs-c',
    'no-js-phone': 'platform-docs-d',
  });
  // The lead asks for one themself: the endorsement is another lead's or security's.
  await signIn(page, 'pat.lead', '/requests/new');
  await page.locator('#account_name').fill(name);
  await page.locator('#owner_team').selectOption({ label: 'Platform' });
  for (const [field, value] of [
    ['purpose', 'publishes the API docs'],
    ['automation', 'docs job'],
    ['runs_on', 'acme/platform/api/api-docs CI'],
    ['secret_location', 'vault: platform/docs'],
    ['why_not_token', 'it pushes to projects of two groups as Maintainer'],
    ['lifetime_days', '30'],
  ]) {
    await page.locator(`#${field}`).fill(value);
  }
  await page.locator('#memberships').fill('acme/platform/api/api-docs maintainer\nacme/platform/web/storefront maintainer');
  await page.locator('input[name="scopes"][value="write_repository"]').check();
  await page.locator('#send-request').click();
  await expect(page.locator('#done')).toBeVisible();
  // Maintainer in two projects of one group's tree: the wizard would say a group access token
  // cannot do Maintainer actions there, so no narrower kind is offered … and no endorse button
  // for the requester.
  await expect(page.locator('#step-endorse')).toHaveCount(0);
  await expect(page.locator('#step-withdraw')).toBeVisible();
  const request = new URL(page.url()).pathname;
  // An engineer of the team sees it, and no step.
  await signIn(page, 'paula.eng', request);
  await expect(page.locator('h1')).toContainText(name);
  await expect(page.locator('#step-endorse, #step-approve')).toHaveCount(0);
});
