/**
 * What each `galaxy-pay` command asks the signer's admin API: method, path, body, the Idempotency-Key a
 * refund sends (derived from the command when none is given), and how the answer is printed.
 */

import { createHash } from 'node:crypto';
import { str, UsageError, type Option, type Values } from './args.js';
import {
  renderLinks,
  renderOperation,
  renderOrder,
  renderPayment,
  renderPayments,
  table,
  type Json,
} from './render.js';

export interface Planned {
  method: 'GET' | 'POST';
  path: string;
  body?: Json;
  /** The Idempotency-Key sent, and whether the CLI derived it (no --idempotency-key was given). */
  idempotency?: { value: string; derived: boolean; kind: string };
  /** Extra request headers (a credential that must not go in the URL). */
  headers?: Record<string, string>;
  render: (json: Json) => string;
}

/**
 * The Idempotency-Key of a refund given without --idempotency-key: derived from what the command says
 * (order, amount, reason), so the same command run twice is one refund, whatever made it run twice (a retry
 * after a timeout, a line re-run from the shell history, two people acting on one complaint); the signer
 * answers the second with the first's outcome. Chosen over asking for confirmation, which scripts and
 * retries cannot answer and people learn to type through. The price: two equal refunds of one order need
 * something that tells them apart, a distinct --reason ("item 1 of 2", "item 2 of 2") or each its own
 * --idempotency-key, which always wins over the derived one.
 */
export function refundKey(orderRef: string, amount: number, reason: string | undefined): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(['refund', orderRef, amount, reason ?? null]))
    .digest('base64url');
  return `galaxy-pay-cli-refund-${digest}`;
}

function wholeNumber(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new UsageError(`${name} must be a whole number, not "${String(value)}"`);
  }
  return Number(value);
}

function arg(positionals: string[], index: number, name: string): string {
  const value = positionals[index];
  if (value === undefined) throw new UsageError(`missing <${name}>`);
  return value;
}

function ref(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,50}$/.test(value))
    throw new UsageError(`"${value}" is not an order reference`);
  return encodeURIComponent(value);
}

function query(values: Values, keys: Partial<Record<Option, string>>): string {
  const params = new URLSearchParams();
  for (const [flag, param] of Object.entries(keys)) {
    const value = values[flag as Option];
    if (typeof value === 'string') params.set(param, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function planRequest(
  positionals: string[],
  values: Values,
  env: Record<string, string | undefined>,
): Planned {
  const [command, sub] = positionals;
  switch (command) {
    case 'orders':
      if (sub === 'list') {
        wholeNumber('--limit', values.limit);
        return {
          method: 'GET',
          path: `/admin/orders${query(values, { status: 'status', limit: 'limit' })}`,
          render: json => renderPayments(json.payments as Json[]),
        };
      }
      if (sub === 'show') {
        return {
          method: 'GET',
          path: `/admin/orders/${ref(arg(positionals, 2, 'orderRef'))}`,
          render: renderOrder,
        };
      }
      throw new UsageError('orders takes list or show');
    case 'query':
      return {
        method: 'POST',
        path: `/admin/orders/${ref(arg(positionals, 1, 'orderRef'))}/query`,
        body: {},
        render: json =>
          `${renderPayment(json.payment as Json)}\ngateway says: ${String((json.gateway as Json | null)?.transactionStatus ?? '?')} ${String((json.gateway as Json | null)?.transactionDescription ?? '')}`,
      };
    case 'refund': {
      const orderRef = ref(arg(positionals, 1, 'orderRef'));
      const amount = wholeNumber('<amount>', arg(positionals, 2, 'amount'))!;
      const reason = str(values.reason);
      const given = str(values['idempotency-key']);
      return {
        method: 'POST',
        path: `/admin/orders/${orderRef}/refund`,
        body: { amount, ...(reason === undefined ? {} : { reason }) },
        idempotency: {
          value: given ?? refundKey(decodeURIComponent(orderRef), amount, reason),
          derived: given === undefined,
          kind: 'refund',
        },
        render: json =>
          `${renderOperation(json.operation as Json)}\n${renderPayment(json.payment as Json)}`,
      };
    }
    case 'void':
    case 'capture': {
      const amount = command === 'capture' ? wholeNumber('--amount', values.amount) : undefined;
      return {
        method: 'POST',
        path: `/admin/orders/${ref(arg(positionals, 1, 'orderRef'))}/${command}`,
        body: amount === undefined ? {} : { amount },
        ...(typeof values['idempotency-key'] === 'string'
          ? { idempotency: { value: values['idempotency-key'], derived: false, kind: command } }
          : {}),
        render: json =>
          `${renderOperation(json.operation as Json)}\n${renderPayment(json.payment as Json)}`,
      };
    }
    case 'reconcile': {
      const olderThan = wholeNumber('--older-than', values['older-than']);
      return {
        method: 'POST',
        path: '/admin/reconcile',
        body: olderThan === undefined ? {} : { olderThanSeconds: olderThan },
        render: json => {
          const results = json.results as Json[];
          if (results.length === 0) return 'No stale pending sessions.';
          return table(
            ['ORDER', 'SESSION', 'BEFORE', 'AFTER', 'ERROR'],
            results.map(r => [r.orderRef, r.sessionId, r.before, r.after, r.error ?? '']),
          );
        },
      };
    }
    case 'links':
      if (sub === 'list') {
        wholeNumber('--limit', values.limit);
        return {
          method: 'GET',
          path: `/admin/links${query(values, { limit: 'limit' })}`,
          render: json => renderLinks(json.links as Json[]),
        };
      }
      if (sub === 'create') {
        const amount = wholeNumber('--amount', values.amount);
        if (amount === undefined) throw new UsageError('links create needs --amount');
        if (typeof values.name !== 'string') throw new UsageError('links create needs --name');
        const list = (v: string | boolean | undefined) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map(s => s.trim())
                .filter(Boolean)
            : undefined;
        return {
          method: 'POST',
          path: '/admin/links',
          body: {
            amount,
            name: values.name,
            description: typeof values.description === 'string' ? values.description : values.name,
            expiryDuration: wholeNumber('--expires', values.expires) ?? 3,
            ...(typeof values.unit === 'string' ? { expiryUnit: values.unit.toUpperCase() } : {}),
            ...(list(values.methods) ? { methods: list(values.methods) } : {}),
            ...(list(values.fields) ? { fields: list(values.fields) } : {}),
          },
          render: json => renderLinks([json.link as Json]),
        };
      }
      throw new UsageError('links takes create or list');
    case 'gateway-tokens': {
      const customerRef = arg(positionals, 1, 'customerRef');
      if (!/^[A-Za-z0-9_.:@+-]{1,100}$/.test(customerRef))
        throw new UsageError(`"${customerRef}" is not a customer reference`);
      const customerToken = str(values['customer-token']) ?? env.GALAXY_PAY_CUSTOMER_TOKEN;
      if (!customerToken)
        throw new UsageError('set GALAXY_PAY_CUSTOMER_TOKEN (or --customer-token)');
      return {
        method: 'GET',
        path: `/admin/customers/${encodeURIComponent(customerRef)}/gateway-tokens`,
        headers: { 'x-customer-token': customerToken },
        render: json => {
          const tokens = json.tokens as Json[];
          const who = `${String(json.customerName ?? '')} (${String(json.customerID ?? '?')})`;
          if (tokens.length === 0) return `No cards at Galaxy Pay for ${who}.`;
          return `${who}\n${table(
            ['TOKEN ID', 'BRAND', 'SOURCE', 'NUMBER', 'HOLDER'],
            tokens.map(t => [t.tokenID, t.brand, t.source, t.maskedNumber, t.holderName]),
          )}`;
        },
      };
    }
    default:
      throw new UsageError(`unknown command "${String(command)}"`);
  }
}
