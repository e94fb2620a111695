import { expect, type Page } from '@playwright/test';

/**
 * The header as a person uses it. From 1280 px its areas are links in the bar; narrower, they
 * are behind the menu button (a `<details>`, so it opens without JavaScript too). The person's
 * own menu (roles, API keys, sign-out) is behind their name at every width.
 */
export class Header {
  constructor(readonly page: Page) {}

  /** Follows the header's link to an area, opening the menu first when the bar hides it. */
  async goTo(area: string) {
    const menuButton = this.page.locator('details[data-menu="main"] > summary');
    if (await menuButton.isVisible()) {
      await menuButton.click();
    }
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: area, exact: true }).click();
  }

  /** Opens the menu of areas, when the bar hides them. */
  async openMenu() {
    const menu = this.page.locator('details[data-menu="main"]');
    if ((await menu.locator('summary').isVisible()) && !(await this.page.getByRole('navigation', { name: 'Main' }).isVisible())) {
      await menu.locator('summary').click();
      await expect(this.page.getByRole('navigation', { name: 'Main' })).toBeVisible();
    }
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
