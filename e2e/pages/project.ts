import { expect, test, type Page } from '@playwright/test';

// The projects of playwright.config.ts: hydrated and with JavaScript off, each at a laptop's
// width and at a phone's.

/** The running project's name. */
export const project = () => test.info().project.name;

/** JavaScript on: the page hydrates. */
export const hydrated = () => test.info().project.use.javaScriptEnabled !== false;

/**
 * With JavaScript on, waits until this page's islands are live (each page load hydrates afresh),
 * so what they add (a form that submits itself, Escape closing a menu) is there.
 */
export async function live(page: Page) {
  if (hydrated()) {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }
}

/** A phone's width (the header's areas are behind the menu button, the inventory is cards). */
export const phone = () => (test.info().project.use.viewport?.width ?? 1366) < 768;

/**
 * Picks this project's own item: journeys that change shared data run in every project at
 * once, each on its own token or account, so they never race.
 */
export function own<T>(items: { hydrated: T; 'no-js': T; 'hydrated-phone': T; 'no-js-phone': T }): T {
  const name = project() as keyof typeof items;
  if (!(name in items)) {
    throw new Error(`no item for project ${name}`);
  }
  return items[name];
}
