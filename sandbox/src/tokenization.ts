/**
 * The token endpoints: createToken saves a test card for later pay-by-token calls, deleteToken (and Remove
 * Token, its alias) forgets one, queryTokens lists a customer's. api.ts has checked the call's signature,
 * envelope and fields.
 */

import { sha256Hex } from '@galaxy-pay/protocol';
import { cardAccount, checkCard } from './cards.js';
import { badRequest, ok, type Operation } from './reply.js';

export const createToken: Operation = (ctx, { data }) => {
  const checked = checkCard(data);
  if ('error' in checked) throw badRequest(checked.error, checked.field);
  const token = ctx.ledger.newToken();
  const account = cardAccount(checked.card, String(data.cardHolderName));
  ctx.ledger.tokens.set(token, {
    ...account,
    token,
    tokenID: ctx.ledger.newTokenId(),
    paymentMethod: String(data.paymentMethod),
    cardNumber: checked.card.number,
    customerToken: typeof data.customerToken === 'string' ? data.customerToken : undefined,
    createdAt: ctx.options.now(),
  });
  return ok({ ...account, token });
};

export const deleteToken: Operation = (ctx, { data }) => {
  if (!ctx.ledger.tokens.delete(String(data.token))) {
    throw badRequest('token is unknown or already deleted', 'requestData.token');
  }
  return ok();
};

export const queryTokens: Operation = (ctx, { data }) => {
  const customerToken = String(data.customerToken);
  const tokens = [...ctx.ledger.tokens.values()]
    .filter(t => t.customerToken === customerToken)
    .map(t => ({
      tokenID: String(t.tokenID),
      token: t.token,
      accountBrand: t.accountBrand,
      accountSource: t.accountSource,
      accountNumber: t.accountNumber,
      accountName: t.accountName,
    }));
  return ok({
    customerID: sha256Hex(customerToken).slice(0, 16),
    customerName: 'SANDBOX CUSTOMER',
    tokens,
  });
};
