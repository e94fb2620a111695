import { expect, test, type Page } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { hydrated, live, own, project } from '../pages/project';
import { signIn } from '../pages/session';

// The review's queue on the server that synced gitlab-sim's demo world at start: its findings were
// worked out at the end of that sync. The projects run at once on the same server, so each decides
// on findings of its own (`own`), of rules that only the token itself decides (another journey
// changes owner teams meanwhile).
const synced = process.env.E2E_SYNCED_URL;
test.use({ baseURL: synced });

/** A finding's card in the queue: of `rule`, about the token `name`. */
const card = (page: Page, rule: string, name: string) =>
  page.locator(`#findings li[data-rule="${rule}"]`, { has: page.getByRole('link', { name, exact: true }) });

test('security filters the queue to one rule, accepts one finding until a date and asks a team to rotate another', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  const { accepted, rotated } = own({
    hydrated: { accepted: 'allure-report-poster', rotated: 'async-retrospectives' },
    'no-js': { accepted: 'docs-publisher', rotated: 'gateway-deployer' },
    'hydrated-phone': { accepted: 'dependency-scanner', rotated: 'sentry-release' },
    'no-js-phone': { accepted: 'danger-ci', rotated: 'triage-ops-ci' },
  });
  await signIn(page, 'sam.security', '/review');
  await live(page);
  await expect(page.locator('#rule-counts')).toContainText('No purpose');

  // The filter: a GET form (with JavaScript a choice applies at once).
  await page.locator('select[name="rule"]').selectOption('no-purpose');
  if (!hydrated()) {
    await page.getByRole('button', { name: 'Apply' }).click();
  }
  await expect(page).toHaveURL(/rule=no-purpose/);
  await expect(page.locator('#findings li').first()).toHaveAttribute('data-rule', 'no-purpose');

  const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  await card(page, 'no-purpose', accepted).getByRole('checkbox').check();
  await page.locator('#decision').selectOption('accept_risk');
  await page.locator('#reason').fill('the owners are writing it down this sprint');
  await page.locator('#until').fill(until);
  await page.locator('#record-decision').click();
  await expect(page.locator('#decided')).toHaveText('Decision recorded on 1 finding(s).');
  await expect(page).toHaveURL(/rule=no-purpose/);
  await expect(card(page, 'no-purpose', accepted)).toHaveCount(0);

  await card(page, 'no-purpose', rotated).getByRole('checkbox').check();
  await page.locator('#decision').selectOption('ask_rotate');
  await page.locator('#record-decision').click();
  await expect(page.locator('#decided')).toHaveText('Decision recorded on 1 finding(s).');
  await screenshot(page, { path: `screenshots/review-decided-${project()}.png`, fullPage: true });

  // The decided view shows both, with who decided, until when and why.
  await page.goto('/review?rule=no-purpose&state=decided');
  const decided = card(page, 'no-purpose', accepted).locator('[data-decision]');
  await expect(decided).toHaveAttribute('data-decision', 'accept_risk');
  await expect(decided).toContainText(`until ${until}, by sam.security`);
  await expect(decided).toContainText('the owners are writing it down this sprint');
  await expect(card(page, 'no-purpose', rotated).locator('[data-decision]')).toHaveAttribute('data-decision', 'ask_rotate');

  // An accepted risk needs a reason: refused, with the message under its field.
  await page.goto('/review?rule=no-expiry');
  await page.locator('#findings li input[type="checkbox"]').first().check();
  await page.locator('#decision').selectOption('accept_risk');
  await page.locator('#until').fill(until);
  await page.locator('#record-decision').click();
  await expect(page.locator('#error-reason')).toContainText('say why the risk is accepted');
});

test('security acknowledges every finding a filtered view lists', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  const rule = own({
    hydrated: 'never-used',
    'no-js': 'expired-not-revoked',
    'hydrated-phone': 'lifetime-over-maximum',
    'no-js-phone': 'expiring',
  });
  await signIn(page, 'sam.security', `/review?rule=${rule}`);
  const count = page.getByTestId('finding-count');
  const total = Number((await count.textContent())?.match(/of (\d+)/)?.[1]);
  expect(total).toBeGreaterThan(0);
  await page.locator('#decision').selectOption('acknowledge');
  await page.locator('#all-in-view').check();
  await page.locator('#record-decision').click();
  await expect(page.locator('#decided')).toHaveText(`Decision recorded on ${total} finding(s).`);
  await expect(page.locator('#no-findings')).toBeVisible();
});

test('a lead sees their team’s findings and an engineer cannot decide', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  await signIn(page, 'pat.lead', '/review?state=all');
  const teams = page.locator('#findings li');
  await expect(teams.first()).toBeVisible();
  for (const text of await page.locator('#findings li').allTextContents()) {
    expect(text).toContain('Platform');
  }
  await expect(page.locator('#decision option[value="accept_risk"]')).toHaveCount(0);
  await expect(page.locator('#record-decision')).toBeVisible();

  await signIn(page, 'paula.eng', '/review?state=all');
  await expect(page.locator('#findings li').first()).toBeVisible();
  await expect(page.locator('#record-decision')).toHaveCount(0);
  await expect(page.locator('#findings input[type="checkbox"]')).toHaveCount(0);
  await screenshot(page, { path: `screenshots/review-engineer-${project()}.png`, fullPage: true });
});

test('an accepted finding reopens when GitLab changes its token and sync runs', async ({ page, request }) => {
  test.skip(!synced || !process.env.E2E_SIM_URL, 'E2E_SYNCED_URL or E2E_SIM_URL is not set');
  // The legacy catch-all bot's tokens: one per project, never expiring, with no purpose.
  const name = own({
    hydrated: 'gitlab-bot',
    'no-js': 'gitlab-bot-triage',
    'hydrated-phone': 'gitlab-bot-changelog',
    'no-js-phone': 'gitlab-bot-release',
  });
  await signIn(page, 'sam.security', '/review?rule=no-purpose');
  const until = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  await card(page, 'no-purpose', name).getByRole('checkbox').check();
  await page.locator('#decision').selectOption('accept_risk');
  await page.locator('#reason').fill('the legacy bot is being split up this quarter');
  await page.locator('#until').fill(until);
  await page.locator('#record-decision').click();
  await expect(page.locator('#decided')).toHaveText('Decision recorded on 1 finding(s).');
  await expect(card(page, 'no-purpose', name)).toHaveCount(0);

  // GitLab: someone gives the token an expiry date (the simulator's own control endpoint).
  const sim = process.env.E2E_SIM_URL;
  const headers = { 'PRIVATE-TOKEN': process.env.E2E_SIM_ADMIN_TOKEN ?? '' };
  const world = await (await request.get(`${sim}/-/sim/world`, { headers })).json();
  const tokens = Object.values(world.personal_access_tokens) as { id: number; name: string }[];
  const token = tokens.find((t) => t.name === name);
  expect(token, `${name} in the simulated GitLab`).toBeDefined();
  const expires = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
  const changed = await request.post(`${sim}/-/sim/mutations`, {
    headers,
    data: [{ op: 'set_expiry', token_id: token?.id, expires_at: expires }],
  });
  expect(changed.ok(), await changed.text()).toBeTruthy();

  // Sync runs (each project presses the button; a run asked for during another is queued), and
  // the accepted finding is open again, its decision marked as no longer holding.
  await page.goto('/sync');
  await live(page);
  await page.locator('#sync-now').click();
  const reopened = card(page, 'no-purpose', name);
  await expect(async () => {
    await page.goto('/review?rule=no-purpose');
    await expect(reopened).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 90_000 });
  await expect(reopened.locator('[data-decision]')).toHaveAttribute('data-decision', 'accept_risk');
  await expect(reopened.locator('[data-decision]')).toContainText('no longer holds: reopened');
  // The finding it no longer has (no expiry) is gone from the queue, and the token's page keeps
  // the history.
  await expect(card(page, 'no-expiry', name)).toHaveCount(0);
  await reopened.getByRole('link', { name, exact: true }).click();
  await expect(page.locator('#token-findings')).toContainText('the legacy bot is being split up this quarter');
  await screenshot(page, { path: `screenshots/review-reopened-${project()}.png`, fullPage: true });
});
