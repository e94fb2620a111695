import { expect, test, type Page } from '@playwright/test';
import { screenshot } from '../pages/screenshot';
import { hydrated, live, project } from '../pages/project';
import { signIn } from '../pages/session';

type Walk = {
  touches: [string, string][]; // [resource label, usage label]
  reach: string;
  maintainer: 'Yes' | 'No';
  confidential?: 'Yes' | 'No'; // asked only when it uses the API
  temporary: 'Yes' | 'No';
  purpose: string;
  team?: string;
  path?: string;
};

async function next(page: Page, step: string) {
  await page.getByTestId('wizard-next').click();
  await expect(page.locator(`form[data-step="${step}"]`)).toBeVisible();
}

/** Answers every step as a person does: a choice, then Next. */
async function walk(page: Page, answers: Walk) {
  await page.goto('/wizard');
  await expect(page.locator('form[data-step="touches"]')).toBeVisible();
  for (const [resource, usage] of answers.touches) {
    await page.getByRole('radio', { name: `${resource}: ${usage}` }).check();
  }
  await next(page, 'reach');
  await page.getByLabel(answers.reach, { exact: true }).check();
  await next(page, 'maintainer_actions');
  await page.getByLabel(answers.maintainer, { exact: true }).check();
  if (answers.confidential) {
    await next(page, 'confidential_issues');
    await page.getByLabel(answers.confidential, { exact: true }).check();
  }
  await next(page, 'temporary');
  await page.getByLabel(answers.temporary, { exact: true }).check();
  await next(page, 'details');
  await page.getByLabel('Purpose').fill(answers.purpose);
  if (answers.team) await page.getByLabel(/Owner team/).fill(answers.team);
  if (answers.path) await page.getByLabel(/Project or group path/).fill(answers.path);
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('recommendation')).toBeVisible();
}

const journeys: { name: string; kind: string; heading: string; scopes: string[]; answers: Walk }[] = [
  {
    name: 'a CI job that clones one project gets a project deploy token',
    kind: 'project_deploy_token',
    heading: 'Create a project deploy token',
    scopes: ['read_repository'],
    answers: {
      touches: [['The Git repository', 'Reads only']],
      reach: 'One project',
      maintainer: 'No',
      temporary: 'No',
      purpose: 'docs mirror',
      path: 'acme/platform/docs',
    },
  },
  {
    name: 'a bot that comments on one project gets a project access token',
    kind: 'project_access_token',
    heading: 'Create a project access token',
    scopes: ['api'],
    answers: {
      touches: [['The API', 'Reads and writes']],
      reach: 'One project',
      maintainer: 'No',
      confidential: 'No',
      temporary: 'Yes',
      purpose: 'release notes',
      path: 'acme/platform/api',
    },
  },
  {
    name: 'a report over one group gets a group access token',
    kind: 'group_access_token',
    heading: 'Create a group access token',
    scopes: ['read_api'],
    answers: {
      touches: [['The API', 'Reads only']],
      reach: 'One group and its projects',
      maintainer: 'No',
      confidential: 'No',
      temporary: 'No',
      purpose: 'weekly report',
      path: 'acme/platform',
    },
  },
  {
    name: 'triage across groups gets a service account owned by a team',
    kind: 'service_account',
    heading: 'Ask for a service account',
    scopes: ['api'],
    answers: {
      touches: [['The API', 'Reads and writes']],
      reach: 'Several groups, or projects in different groups',
      maintainer: 'Yes',
      confidential: 'Yes',
      temporary: 'No',
      purpose: 'triage',
      team: 'Engineering Productivity',
    },
  },
];

for (const journey of journeys) {
  test(journey.name, async ({ page }) => {
    await signIn(page, 'eli.eng', '/wizard');
    await walk(page, journey.answers);
    const card = page.getByTestId('recommendation');
    await expect(card).toHaveAttribute('data-kind', journey.kind);
    await expect(page.getByTestId('recommended-kind')).toHaveText(journey.heading);
    await expect(page.getByTestId('recommended-scopes')).toHaveText(journey.scopes.join(''));
    await expect(page.getByTestId('recommendation-rules')).toContainText('Never reuse an existing token');
    await expect(page.getByTestId('recommended-expiry')).toContainText(journey.answers.temporary === 'Yes' ? '30 days' : '90 days');
    await expect(page.getByTestId('wizard-progress')).toContainText('Step');
    // The answers are in the address: the link reproduces the recommendation.
    const link = page.url();
    expect(new URL(link).searchParams.get('purpose')).toBe(journey.answers.purpose);
    expect(link).not.toMatch(/&=|\?=/);
    await screenshot(page, { path: `screenshots/wizard-${journey.kind}-${project()}.png`, fullPage: true });
    await page.goto(link);
    await expect(page.getByTestId('recommendation')).toHaveAttribute('data-kind', journey.kind);
  });
}

test('back returns to the previous step with its answer kept', async ({ page }) => {
  await signIn(page, 'eli.eng', '/wizard');
  await page.getByRole('radio', { name: 'The container registry: Reads and writes' }).check();
  await next(page, 'reach');
  await expect(page.getByTestId('wizard-progress')).toHaveText('Step 2 of 6');
  await screenshot(page, { path: `screenshots/wizard-step-${project()}.png`, fullPage: true });
  await page.getByTestId('wizard-back').click();
  await expect(page.locator('form[data-step="touches"]')).toBeVisible();
  await expect(page.getByRole('radio', { name: 'The container registry: Reads and writes' })).toBeChecked();
  // Next without an answer says what is missing.
  await page.getByRole('radio', { name: 'The container registry: Not used' }).check();
  await page.getByTestId('wizard-next').click();
  await expect(page.locator('[data-error-for="touches"]')).toContainText('choose at least one part of GitLab');
});

test('changing an answer on the summary changes the recommendation', async ({ page }) => {
  await signIn(page, 'eli.eng', '/wizard');
  await walk(page, journeys[0].answers);
  await expect(page.getByTestId('recommended-scopes')).toHaveText('read_repository');
  const answers = page.getByTestId('wizard-answers');
  // With JavaScript a change applies at once (the form submits itself); without, Update does.
  await live(page);
  await answers.getByLabel('The Git repository').selectOption('writes');
  if (!hydrated()) await answers.getByRole('button', { name: 'Update' }).click();
  await expect(page.getByTestId('recommended-scopes')).toHaveText('write_repository');
  await expect(page).toHaveURL(/repository=writes/);
  // Reaching across groups needs a service account (owned by Eli's team, suggested at the last step).
  await live(page);
  await answers.getByLabel('Where').selectOption('several_groups');
  if (!hydrated()) await answers.getByRole('button', { name: 'Update' }).click();
  await expect(page.getByTestId('recommendation')).toHaveAttribute('data-kind', 'service_account');
  await expect(page.getByTestId('next-step')).toContainText('Engineering Productivity');
});
