/**
 * The sandbox's hosted payment page, wherever the widget shows it (the modal's frame, a popup, or the page
 * itself after a redirect), and the sandbox's test cards.
 */

import type { FrameLocator, Page } from 'playwright-core';
import { screenshot } from './browser.js';

export interface TestCardInput {
  method: 'DOMESTIC' | 'INTERNATIONAL';
  number: string;
  date: string;
  cvv?: string;
  holder?: string;
  /** The OTP to type when the card asks for one (the sandbox's is `otp`). */
  otp?: string;
}

export const CARDS = {
  domesticOtp: { method: 'DOMESTIC', number: '9704000000000018', date: '03/07', otp: 'otp' },
  domesticDeclined: { method: 'DOMESTIC', number: '9704000000000026', date: '03/07', otp: 'otp' },
  international3ds: {
    method: 'INTERNATIONAL',
    number: '5506920809243667',
    date: '01/39',
    cvv: '100',
    otp: 'otp',
  },
  internationalNon3ds: {
    method: 'INTERNATIONAL',
    number: '4456530000000064',
    date: '12/30',
    cvv: '111',
  },
  internationalDeclined: {
    method: 'INTERNATIONAL',
    number: '4000000000000002',
    date: '01/39',
    cvv: '100',
  },
} as const satisfies Record<string, TestCardInput>;

/** The steps a shopper takes on the hosted page. */
export class HostedPage {
  /**
   * @param surface where the page's document is: the modal's frame, a popup, or the shop's tab.
   * @param shownIn the tab a screenshot of this step captures.
   */
  constructor(
    readonly surface: Page | FrameLocator,
    private readonly shownIn: Page,
  ) {}

  locator(selector: string) {
    return this.surface.locator(selector);
  }

  /** Waits until the page offers its payment methods (the shopper sees the choice). */
  async shown(): Promise<void> {
    await this.surface.locator('a[href*="method="]').first().waitFor();
  }

  async chooseMethod(method: TestCardInput['method']): Promise<void> {
    await this.surface.locator(`a[href*="method=${method}"]`).click();
  }

  /** Fills the card form of the card's method (already chosen). */
  async fillCard(card: TestCardInput): Promise<void> {
    const field = (name: string) => this.surface.locator(`input[name="${name}"]`);
    if (card.method === 'DOMESTIC') {
      await this.surface.locator('select[name="sourceType"]').selectOption({ index: 1 });
      await field('cardIssueDate').fill(card.date);
    } else {
      await field('cardExpireDate').fill(card.date);
      await field('cardVerificationValue').fill(card.cvv ?? '');
    }
    await field('cardNumber').fill(card.number);
    await field('cardHolderName').fill(card.holder ?? 'NGUYEN VAN A');
  }

  async submitCard(): Promise<void> {
    await this.surface.locator('form[action*="/card"] button[type="submit"]').click();
  }

  /** The OTP field, once the card asks for one. */
  otpField() {
    return this.surface.locator('input[name="otp"]');
  }

  async submitOtp(): Promise<void> {
    await this.surface.locator('form[action*="/otp"] button[type="submit"]').click();
  }

  /**
   * Pays with `card`: its method, the card form, and the OTP when the card has one. With `screenshots`,
   * saves `<name>.png` of the filled form and `<name>-otp.png` of the OTP step.
   */
  async pay(card: TestCardInput, screenshots?: string): Promise<void> {
    await this.chooseMethod(card.method);
    await this.fillCard(card);
    if (screenshots) await screenshot(this.shownIn, screenshots);
    await this.submitCard();
    if (card.otp === undefined) return;
    await this.otpField().fill(card.otp);
    if (screenshots) await screenshot(this.shownIn, `${screenshots}-otp`);
    await this.submitOtp();
  }

  /** Presses "cancel". */
  async cancel(): Promise<void> {
    await this.surface.locator('form[action*="/cancel"] button[type="submit"]').first().click();
  }
}
