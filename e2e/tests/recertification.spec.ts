import { expect, test } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { expectAccessible } from '../pages/a11y';
import { Header } from '../pages/header';
import { live, own, project } from '../pages/project';
import { signIn } from '../pages/session';

// Recertification on the server that synced gitlab-sim's demo world. Each project opens its own
// campaign over a team of its own, answered by that team's lead, so the projects (running at
// once) never answer the same token, and each flag is its own team's finding.
const synced = process.env.E2E_SYNCED_URL;
test.use({ baseURL: synced });

test('security opens a campaign, the team lead completes the team’s pass with bulk actions, the team shows 100%', async ({ page }) => {
  test.skip(!synced, 'E2E_SYNCED_URL is not set');
  // Two people and a handful of pages: longer than one journey's usual 30 s at a phone's width.
  test.slow();
  const { team, lead } = own({
    hydrated: { team: 'Platform', lead: 'pat.lead' },
    'no-js': { team: 'Delivery', lead: 'dana.lead' },
    'hydrated-phone': { team: 'Quality', lead: 'quinn.lead' },
    'no-js-phone': { team: 'Distribution', lead: 'dora.lead' },
  });

  // Security opens a campaign over the team, due in 30 days (the form's default).
  await signIn(page, 'sam.security', '/recertification');
  await live(page);
  await expectAccessible(page, `campaigns (${project()})`);
  await page.locator('#scope').selectOption({ label: team });
  await expect(page.locator('#due_on')).not.toHaveValue('');
  await page.locator('#open-campaign-submit').click();
  await expect(page.locator('#done')).toContainText('Opened with');
  const campaign = new URL(page.url()).pathname;
  const id = campaign.split('/').pop();
  await expect(page.locator(`[data-team="${team}"] [data-answered]`)).toHaveText(/^0 of \d+$/);
  await expectAccessible(page, `campaign (${project()})`);
  await screenshot(page, { path: `screenshots/recertification-campaign-${project()}.png`, fullPage: true });

  // The lead finds it from the header, then their team's pass.
  await signIn(page, lead, '/');
  await live(page);
  if (project() === 'hydrated') {
    // The bar's narrowest width (1280 px) still holds every area's link and the person's name.
    await page.setViewportSize({ width: 1280, height: 768 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'the header at 1280 px is no wider than the window').toBeLessThanOrEqual(0);
    await screenshot(page, { path: `screenshots/recertification-header-1280.png` });
    await page.setViewportSize({ width: 1366, height: 768 });
  }
  // Below 1280 px in the menu of areas; from it (the bar has no room left) in the person's menu.
  const header = new Header(page);
  if (header.areasBehindMenu()) {
    await header.goTo('Recertification');
  } else {
    await header.openUserMenu();
    await page.locator('#user-recertification').click();
  }
  await expect(page.getByRole('heading', { name: 'Recertification', level: 1 })).toBeVisible();
  await expect(page.locator('#open-campaign')).toHaveCount(0);
  await page.locator('#campaigns').getByRole('link', { name: `Recertification #${id}`, exact: true }).click();
  await page.locator(`[data-team="${team}"]`).getByRole('link', { name: 'Your pass' }).click();
  await expect(page.getByRole('heading', { name: `${team}: Recertification #${id}` })).toBeVisible();
  const answered = page.locator('#team-answered');
  const total = Number(await answered.getAttribute('data-total'));
  expect(total).toBeGreaterThan(0);
  await expect(answered).toHaveText(`0 of ${total} answered`);
  await expectAccessible(page, `team pass (${project()})`);
  await screenshot(page, { path: `screenshots/recertification-pass-${project()}.png`, fullPage: true });

  // A flag without a reason is refused, and nothing is answered.
  const boxes = page.locator('#items input[name="item"]');
  await boxes.first().check();
  await page.locator('#flag-selected').click();
  await expect(page.locator('#error-reason')).toContainText('a flag needs a reason');
  await expect(answered).toHaveText(`0 of ${total} answered`);

  // Flag the first with a reason; confirm the second chosen by its box; then every one left.
  await boxes.first().check();
  await page.locator('#reason').fill('Nobody on the team knows what runs with it');
  await page.locator('#flag-selected').click();
  await expect(page.locator('#done')).toHaveText('Flagged 1 item.');
  await expect(page.locator('#items tbody tr').first()).toHaveAttribute('data-answer', 'flagged');
  await expect(page.locator('#items tbody tr').first()).toContainText('“Nobody on the team knows what runs with it”');
  if (total > 2) {
    await boxes.nth(1).check();
    await page.locator('#confirm-selected').click();
    await expect(page.locator('#done')).toHaveText('Confirmed 1 item.');
  }
  const left = total - (total > 2 ? 2 : 1);
  if (left > 0) {
    await expect(page.locator('#confirm-unanswered')).toHaveText(`Confirm all ${left} unanswered`);
    await page.locator('#confirm-unanswered').click();
    await expect(page.locator('#done')).toHaveText(left === 1 ? 'Confirmed 1 item.' : `Confirmed ${left} items.`);
  }
  await expect(answered).toHaveText(`${total} of ${total} answered`);
  await expect(page.locator('#items tbody tr[data-answer="unanswered"]')).toHaveCount(0);
  await expect(page.locator('#confirm-unanswered')).toBeDisabled();
  await screenshot(page, { path: `screenshots/recertification-pass-done-${project()}.png`, fullPage: true });

  // The campaign's page: the team is done.
  await page.getByRole('link', { name: `Recertification #${id}`, exact: true }).click();
  const row = page.locator(`[data-team="${team}"]`);
  await expect(row.locator('[data-answered]')).toHaveText(`${total} of ${total}`);
  await expect(row.locator('[data-percent]')).toHaveAttribute('data-percent', '100');
  await expect(row).toContainText('Done');

  // The flag is one of the team's findings in the review.
  await page.goto('/review?rule=flagged-at-recertification');
  await expect(page.getByText('Nobody on the team knows what runs with it').first()).toBeVisible();
});
