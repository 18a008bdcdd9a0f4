/**
 * Saved cards: the token from a PAY_WITH_CREATE_TOKEN IPN is stored encrypted for the customer the
 * session was opened for (vouched by a customer handle), listed as masked cards only, used to pay (the
 * shopper still confirms on the hosted page) or for a merchant-initiated FAST_PAY, and deleted.
 */

import type { Tokenization } from '@galaxy-pay/protocol';
import { randomId } from '../payments/ids.js';
import { HttpError } from '../http/errors.js';
import type { GatewayClient } from '../gateway/client.js';
import { GatewayError } from '../gateway/errors.js';
import type { Logger } from '../logger.js';
import type { SavedCard, Session, SessionPlan, Store } from '../store/store.js';
import { verifyCustomerHandle } from './customer-handle.js';
import type { TokenVault } from './vault.js';

export interface SavedCardsConfig {
  vault: TokenVault;
  /** HMAC key of customer handles (CUSTOMER_HANDLE_SECRET). */
  handleSecret: string;
}

export interface CardsDeps {
  store: Store;
  logger: Logger;
  now: () => Date;
  cards?: SavedCardsConfig;
}

/** Saved cards must be configured (key and handle secret) before any route offers them. */
export function requireCards(deps: CardsDeps): SavedCardsConfig {
  if (!deps.cards) {
    throw new HttpError(
      400,
      'saved_cards_disabled',
      'saved cards are not enabled on this signer (TOKEN_ENCRYPTION_KEY, CUSTOMER_HANDLE_SECRET)',
    );
  }
  return deps.cards;
}

/** The customer a handle vouches for; 401 when it is forged, malformed or expired. */
export function customerFromHandle(deps: CardsDeps, handle: unknown): string {
  const cards = requireCards(deps);
  const verdict = verifyCustomerHandle(cards.handleSecret, handle, deps.now());
  if (!verdict.ok) {
    throw new HttpError(
      401,
      verdict.code,
      verdict.code === 'customer_handle_expired'
        ? 'the customer handle has expired; ask the merchant page for a new one'
        : 'the customer handle is not valid',
    );
  }
  return verdict.customerRef;
}

/** A card of this customer, or 404 (another customer's card looks exactly like an unknown one). */
export async function cardOf(deps: CardsDeps, customerRef: string, id: string): Promise<SavedCard> {
  const card = /^[A-Za-z0-9_-]{22}$/.test(id) ? await deps.store.getCard(customerRef, id) : null;
  if (!card) throw new HttpError(404, 'saved_card_not_found', 'no such saved card');
  return card;
}

/** What a widget session request asks for, turned into a plan; checked before anything is stored. */
export async function planForWidget(
  deps: CardsDeps,
  body: {
    customerHandle?: string;
    saveCard?: boolean;
    tokenId?: string;
    paymentMethod?: string;
    qr?: boolean;
  },
  manualCapture: boolean,
): Promise<{ plan: SessionPlan | null; paymentMethod?: string }> {
  const capture = manualCapture ? { capture: 'manual' as const } : {};
  const wantsCard = body.saveCard === true || body.tokenId !== undefined;
  if (body.paymentMethod === 'QRPAY' || (body.paymentMethod === 'WALLET' && body.qr === true)) {
    if (wantsCard) throw new HttpError(400, 'invalid_field', 'a QR payment cannot use saved cards');
    return { plan: { op: 'qr' } };
  }
  if (body.qr === true) {
    throw new HttpError(400, 'invalid_field', 'qr needs paymentMethod QRPAY or WALLET');
  }
  if (!wantsCard) {
    if (body.customerHandle !== undefined) customerFromHandle(deps, body.customerHandle);
    return { plan: manualCapture ? capture : null };
  }
  if (body.saveCard === true && body.tokenId !== undefined) {
    throw new HttpError(400, 'invalid_field', 'send either saveCard or tokenId, not both');
  }
  if (body.customerHandle === undefined) {
    throw new HttpError(400, 'customer_handle_required', 'saved cards need a customerHandle');
  }
  const customerRef = customerFromHandle(deps, body.customerHandle);
  if (body.saveCard === true) {
    if (
      body.paymentMethod !== undefined &&
      !['DOMESTIC', 'INTERNATIONAL'].includes(body.paymentMethod)
    ) {
      throw new HttpError(
        400,
        'invalid_field',
        'only DOMESTIC and INTERNATIONAL cards can be saved',
      );
    }
    return { plan: { op: 'create_token', customerRef, ...capture } };
  }
  const card = await cardOf(deps, customerRef, body.tokenId!);
  return {
    plan: { op: 'token', customerRef, cardId: card.id, ...capture },
    paymentMethod: card.paymentMethod,
  };
}

/** Decrypts the token of a saved-card session just before its gateway call. */
export function tokenResolver(deps: CardsDeps) {
  return async (session: Session): Promise<string> => {
    const { customerRef, cardId } = session.plan ?? {};
    const cards = requireCards(deps);
    const card = customerRef && cardId ? await deps.store.getCard(customerRef, cardId) : null;
    if (!card) throw new HttpError(404, 'saved_card_not_found', 'the saved card was deleted');
    return cards.vault.decrypt(card.tokenCiphertext, card.customerRef);
  };
}

/**
 * Saves the card an IPN delivered (PAY_WITH_CREATE_TOKEN), for the customer the session was opened for.
 * Idempotent: the same token is saved once, so a repeated IPN changes nothing. Throws on a store failure
 * (the IPN is then answered 503 and comes again).
 */
export async function saveCardFromIpn(
  deps: CardsDeps,
  session: Session,
  tokenization: Tokenization | undefined,
): Promise<void> {
  if (!tokenization || session.plan?.op !== 'create_token' || !session.plan.customerRef) return;
  if (session.status !== 'paid' && session.status !== 'authorized') return;
  if (String(tokenization.status) !== '200' || typeof tokenization.token !== 'string') return;
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(tokenization.token)) {
    deps.logger.warn({ sessionId: session.id }, 'IPN token has an unexpected format; not saved');
    return;
  }
  if (!deps.cards) {
    deps.logger.warn({ sessionId: session.id }, 'IPN carried a card token but saved cards are off');
    return;
  }
  const { vault } = deps.cards;
  const customerRef = session.plan.customerRef;
  const text = (value: unknown, max: number) =>
    typeof value === 'string' && value !== '' ? value.slice(0, max) : null;
  const { created } = await deps.store.saveCard({
    id: randomId(),
    customerRef,
    tokenDigest: vault.digest(tokenization.token),
    tokenCiphertext: vault.encrypt(tokenization.token, customerRef),
    keyId: vault.keyId,
    paymentMethod: session.paymentMethod ?? 'INTERNATIONAL',
    brand: text(tokenization.accountBrand, 40),
    source: text(tokenization.accountSource, 40),
    // Only a masked number is ever kept: anything longer than a masked PAN's visible digits is cut.
    maskedNumber: maskOf(tokenization.accountNumber),
    holderName: text(tokenization.accountName, 50),
    sessionId: session.id,
    createdAt: deps.now(),
  });
  if (created) deps.logger.info({ sessionId: session.id }, 'card saved for the customer');
}

/** A masked card number: keeps at most the first 6 and last 4 digits, whatever the gateway sent. */
export function maskOf(value: unknown): string {
  const text = typeof value === 'string' ? value : '';
  const digits = text.replace(/[^0-9*xX]/g, '');
  if (digits.length < 10) return '****';
  const plain = digits.replace(/[*xX]/g, '');
  if (plain.length <= 10) return digits.replace(/[xX]/g, '*');
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
}

/**
 * Deletes a customer's card: marked deleted first (so a concurrent delete calls the gateway once), then
 * removed at the gateway; a gateway failure is logged — the signer never uses the card again either way.
 */
export async function deleteCard(
  deps: CardsDeps & { gateway: GatewayClient },
  customerRef: string,
  id: string,
): Promise<{ gatewayDeleted: boolean }> {
  const cards = requireCards(deps);
  const card = await cardOf(deps, customerRef, id);
  if (!(await deps.store.deleteCard(customerRef, card.id, deps.now()))) {
    throw new HttpError(404, 'saved_card_not_found', 'no such saved card');
  }
  try {
    await deps.gateway.deleteToken({
      token: cards.vault.decrypt(card.tokenCiphertext, card.customerRef),
    });
    return { gatewayDeleted: true };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    deps.logger.warn(
      { cardId: card.id, code: error.code },
      'saved card deleted here but not at the gateway',
    );
    return { gatewayDeleted: false };
  }
}
