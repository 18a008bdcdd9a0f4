/**
 * Scripted faults, chosen by magic tokens (docs/reliability.md §6, modelled on stripe-stateful-mock's token chains).
 *
 * A token list rides in `orderDescription` as one word `sandbox:<token>[,<token>…]`, e.g.
 * `"Order 42 sandbox:dup:3,late:2"`, or is passed to `createSandbox({ faults })` for every order.
 * API-reply tokens apply to the call that carries them; suffix `@<endpoint>` (e.g. `delay:3000@query`)
 * to aim them at later calls of that endpoint for the same transaction instead.
 */

/** One scripted reply in a chain such as `500|500|ok`. */
export type ReplyStep = 'ok' | 'reset' | 'html' | '500' | '502' | '503' | '504';

/** Faults that change how one API call is answered. */
export interface ApiFaults {
  delayMs?: number;
  drip?: boolean;
  reset?: boolean;
  replies?: ReplyStep[];
  htmlErrorPage?: boolean;
  duplicate409?: boolean;
  huge?: boolean;
  badResponseSignature?: boolean;
  foreignEndpointHost?: boolean;
}

/** Faults that change what happens after the shopper finishes. */
export interface FlowFaults {
  ipnFirst?: boolean;
  ipnCopies?: number;
  failThenSuccess?: boolean;
  lateIpnSeconds?: number;
  noIpn?: boolean;
  amountDelta?: number;
  currency?: string;
  statusAuthorized?: boolean;
  protoPollution?: boolean;
  plusUnencoded?: boolean;
  denyFraming?: boolean;
  callbackMethod?: 'GET' | 'POST';
}

/** Everything scripted for one order. */
export interface FaultPlan extends FlowFaults {
  /** Reply faults for the call that carried the tokens. */
  api: ApiFaults;
  /** Reply faults for later calls of one endpoint (`query`, `refund`, …) about the same transaction. */
  scoped: Partial<Record<string, ApiFaults>>;
}

/** A token the sandbox does not know: a typo in a test should fail loudly, not be ignored. */
export class FaultTokenError extends Error {
  override readonly name = 'FaultTokenError';
}

export const scopableEndpoints = [
  'checkout',
  'pay',
  'payWithOption',
  'payWithQR',
  'createPaymentLink',
  'query',
  'refund',
  'void',
  'capture',
] as const;

const REPLY_STEP = /^(ok|reset|html|500|502|503|504)$/;
const FAULT_WORD = /(?:^|\s)sandbox:(\S+)/g;

/** An empty plan. */
export function noFaults(): FaultPlan {
  return { api: {}, scoped: {} };
}

/** Reads every `sandbox:` word of an order description. Throws `FaultTokenError` on an unknown token. */
export function faultsFromDescription(description: unknown): FaultPlan {
  if (typeof description !== 'string') return noFaults();
  const tokens = [...description.matchAll(FAULT_WORD)].flatMap(match => match[1]!.split(','));
  return parseFaultTokens(tokens);
}

/** Parses a comma-separated token list (the `faults` option, or `POST /__sandbox/faults`). */
export function parseFaults(list: string | undefined): FaultPlan {
  if (!list) return noFaults();
  return parseFaultTokens(
    list
      .split(',')
      .map(token => token.trim())
      .filter(Boolean),
  );
}

function parseFaultTokens(tokens: string[]): FaultPlan {
  const plan = noFaults();
  for (const raw of tokens) {
    const at = raw.lastIndexOf('@');
    const token = at > 0 ? raw.slice(0, at) : raw;
    const scope = at > 0 ? raw.slice(at + 1) : undefined;
    if (scope !== undefined && !(scopableEndpoints as readonly string[]).includes(scope)) {
      throw new FaultTokenError(`unknown endpoint "${scope}" in sandbox fault "${raw}"`);
    }
    const api = scope ? (plan.scoped[scope] ??= {}) : plan.api;
    if (!applyApiToken(api, token)) {
      if (scope)
        throw new FaultTokenError(`sandbox fault "${token}" cannot be aimed at an endpoint`);
      if (!applyFlowToken(plan, token)) throw new FaultTokenError(`unknown sandbox fault "${raw}"`);
    }
  }
  return plan;
}

function applyApiToken(api: ApiFaults, token: string): boolean {
  let match: RegExpExecArray | null;
  if ((match = /^delay:(\d{1,6})$/.exec(token))) api.delayMs = Number(match[1]);
  else if (token === 'drip') api.drip = true;
  else if (token === 'reset') api.reset = true;
  else if (token === 'html-error-page') api.htmlErrorPage = true;
  else if (token === '409-duplicate') api.duplicate409 = true;
  else if (token === 'huge') api.huge = true;
  else if (token === 'bad-response-signature') api.badResponseSignature = true;
  else if (token === 'foreign-endpoint-host') api.foreignEndpointHost = true;
  else if (token.split('|').every(step => REPLY_STEP.test(step)) && token !== 'ok') {
    api.replies = token.split('|') as ReplyStep[];
  } else return false;
  return true;
}

function applyFlowToken(plan: FaultPlan, token: string): boolean {
  let match: RegExpExecArray | null;
  if (token === 'ipn-first') plan.ipnFirst = true;
  else if ((match = /^dup:(\d{1,2})$/.exec(token)) && Number(match[1]) >= 1) {
    plan.ipnCopies = Number(match[1]);
  } else if (token === 'reorder' || token === 'fail-then-success') plan.failThenSuccess = true;
  else if ((match = /^late:(\d{1,4}(?:\.\d{1,3})?)$/.exec(token))) {
    plan.lateIpnSeconds = Number(match[1]);
  } else if (token === 'no-ipn') plan.noIpn = true;
  else if ((match = /^amount:([+-]\d{1,12})$/.exec(token))) plan.amountDelta = Number(match[1]);
  else if ((match = /^currency:([A-Z]{3})$/.exec(token))) plan.currency = match[1];
  else if (token === 'status:authorized') plan.statusAuthorized = true;
  else if (token === 'proto-pollution') plan.protoPollution = true;
  else if (token === 'plus-unencoded') plan.plusUnencoded = true;
  else if (token === 'deny-framing') plan.denyFraming = true;
  else if ((match = /^callback:(get|post)$/.exec(token))) {
    plan.callbackMethod = match[1] === 'get' ? 'GET' : 'POST';
  } else return false;
  return true;
}

/** Combines plans; later ones win where both set a value. */
export function mergeFaults(...plans: FaultPlan[]): FaultPlan {
  const merged = noFaults();
  for (const plan of plans) {
    const { api, scoped, ...flow } = plan;
    Object.assign(merged, flow);
    Object.assign(merged.api, api);
    for (const [scope, faults] of Object.entries(scoped)) {
      merged.scoped[scope] = { ...merged.scoped[scope], ...faults };
    }
  }
  return merged;
}
