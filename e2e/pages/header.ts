import { expect, type Page } from '@playwright/test';

/** The width from which the header's areas are links in the bar (Tailwind's `xl`). */
const BAR_WIDTH = 1280;

/**
 * The header as a person uses it. From 1280 px its areas are links in the bar; narrower, they
 * are behind the menu button (a `<details>`, so it opens without JavaScript too). The person's
 * own menu (roles, API keys, sign-out) is behind their name at every width.
 *
 * The stylesheet is revalidated at every page load (`no-cache`), and before it applies the menu
 * button and both lists of areas show at every width (a test once saw the button at laptop width,
 * then waited 30 s to click it). So the header waits for the page's load (stylesheets included),
 * and whether the menu button is there is decided by the window's width.
 */
export class Header {
  constructor(readonly page: Page) {}

  /** Whether the bar hides the areas behind the menu button at this window's width. */
  areasBehindMenu(): boolean {
    const width = this.page.viewportSize()?.width;
    if (width === undefined) {
      throw new Error('the header needs a fixed viewport to know where its areas are');
    }
    return width < BAR_WIDTH;
  }

  /** Follows the header's link to an area, opening the menu first when the bar hides it. */
  async goTo(area: string) {
    await this.openMenu();
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: area, exact: true }).click();
  }

  /** Opens the menu of areas, when the bar hides them. */
  async openMenu() {
    await this.page.waitForLoadState('load');
    if (!this.areasBehindMenu()) {
      return;
    }
    const menu = this.page.locator('details[data-menu="main"]');
    const nav = this.page.getByRole('navigation', { name: 'Main' });
    if (!(await menu.evaluate((details) => (details as HTMLDetailsElement).open))) {
      await menu.locator('summary').click();
    }
    await expect(nav).toBeVisible();
  }

  /** Opens the signed-in person's menu. */
  async openUserMenu() {
    const signOut = this.page.locator('#sign-out');
    if (!(await signOut.isVisible())) {
      await this.page.locator('details[data-menu="user"] > summary').click();
      await expect(signOut).toBeVisible();
    }
  }
}
