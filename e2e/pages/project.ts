import { test } from '@playwright/test';

// The projects of playwright.config.ts: hydrated and with JavaScript off, each at a laptop's
// width and at a phone's.

/** The running project's name. */
export const project = () => test.info().project.name;

/** JavaScript on: the page hydrates. */
export const hydrated = () => test.info().project.use.javaScriptEnabled !== false;

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
