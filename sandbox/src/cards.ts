/** Test-card checks shared by the hosted pages, Merchant Hosted Checkout and createToken. */

import {
  findTestCard,
  maskCardNumber,
  type CardAccount,
  type TestCard,
} from '@galaxy-pay/protocol';

export type CardCheck = { card: TestCard } | { error: string; field: string };

/**
 * Checks submitted card fields against the documented test cards, as an issuer would: unknown number,
 * wrong expiry or issue date, wrong CVV, or a method that does not match the card are refused.
 */
export function checkCard(fields: Record<string, unknown>, prefix = 'requestData.'): CardCheck {
  const number = String(fields.cardNumber ?? '').replace(/\s+/g, '');
  const card = findTestCard(number);
  if (!card)
    return { error: 'cardNumber is not a sandbox test card', field: `${prefix}cardNumber` };
  const method = fields.paymentMethod;
  if (typeof method === 'string' && method !== '' && method !== card.method) {
    return {
      error: `this card pays ${card.method}, not ${method}`,
      field: `${prefix}paymentMethod`,
    };
  }
  const date = String(fields.cardExpireDate ?? fields.cardIssueDate ?? '').trim();
  if (date !== card.date) {
    const what = card.method === 'DOMESTIC' ? 'issue date' : 'expiry date';
    return { error: `the ${what} does not match the card`, field: `${prefix}cardExpireDate` };
  }
  if (card.cvv !== undefined && String(fields.cardVerificationValue ?? '') !== card.cvv) {
    return { error: 'the CVV does not match the card', field: `${prefix}cardVerificationValue` };
  }
  return { card };
}

/** How the gateway describes a card: brand, network, masked number, holder. */
export function cardAccount(card: TestCard, holder: string): CardAccount {
  return {
    accountBrand: card.brand,
    accountSource: card.network,
    accountNumber: maskCardNumber(card.number),
    accountName: (holder || card.holder || '').toUpperCase(),
  };
}
