import { expect, type Locator, type Page } from '@playwright/test';
import { live } from './project';

/** The inventory page, as a person uses it. */
export class InventoryPage {
  readonly rows: Locator;
  readonly count: Locator;
  readonly kind: Locator;
  readonly expiry: Locator;
  readonly search: Locator;
  readonly apply: Locator;

  constructor(readonly page: Page, readonly hydrated: boolean) {
    this.rows = page.locator('[data-testid="token-table"] tbody tr');
    this.count = page.getByTestId('token-count');
    this.kind = page.getByLabel('Kind');
    this.expiry = page.locator('select[name="expiry"]');
    this.search = page.getByLabel('Search');
    this.apply = page.getByRole('button', { name: 'Apply' });
  }

  /** Opens the inventory with URL parameters, waiting for hydration when JavaScript is on. */
  async goto(query = '') {
    await this.page.goto(`/${query ? `?${query}` : ''}`);
    if (this.hydrated) {
      await expect(this.page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    }
  }

  async names(): Promise<string[]> {
    return this.rows.locator('td:nth-child(2) > a:first-child').allTextContents();
  }

  async kinds(): Promise<string[]> {
    return this.rows.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-kind') ?? ''));
  }

  /** Chooses a kind: applied at once when hydrated, with the Apply button otherwise. */
  async filterByKind(kind: string) {
    await live(this.page);
    await this.kind.selectOption(kind);
    if (!this.hydrated) {
      await this.apply.click();
    }
  }

  async searchFor(words: string) {
    await this.search.fill(words);
    await this.apply.click();
  }
}
