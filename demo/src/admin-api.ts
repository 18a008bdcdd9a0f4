/**
 * The shop's back end talking to the signer's admin API, server to server: the bearer token lives here and
 * in the signer, never in a page, a bundle or a response. The shop's own API errors (`ShopError`) too.
 */

export class ShopError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AdminAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  /** The signer's `idempotent-replayed` header: the same Idempotency-Key answered from the first request. */
  replayed: boolean;
}

export interface AdminCall {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  /** Sent as `Idempotency-Key` (refunds require one; voids and captures take one). */
  idempotencyKey?: string;
  /** Who acts, for the audit trail (`x-operator`). */
  operator?: string;
}

export type AdminClient = <T = Record<string, unknown>>(
  path: string,
  call?: AdminCall,
) => Promise<AdminAnswer<T>>;

/**
 * A client of `${adminUrl}/admin/...`. Answers of any status are returned as they are (the caller decides);
 * a signer that cannot be reached or answers no JSON is a 502 `signer_unavailable`.
 */
export function adminClient(adminUrl: string, adminToken: string): AdminClient {
  const base = adminUrl.replace(/\/+$/, '');
  return async <T>(path: string, call: AdminCall = {}): Promise<AdminAnswer<T>> => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${adminToken}`,
      'x-operator': call.operator ?? 'demo-shop',
    };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.idempotencyKey) headers['idempotency-key'] = call.idempotencyKey;
    let res: Response;
    let body: T;
    try {
      res = await fetch(`${base}${path}`, {
        method: call.method ?? 'GET',
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(20_000),
      });
      body = (await res.json()) as T;
    } catch {
      throw new ShopError(502, 'signer_unavailable', 'the payment service did not answer');
    }
    return {
      status: res.status,
      body,
      replayed: res.headers.get('idempotent-replayed') === 'true',
    };
  };
}

/** The signer's `{error: {code, message}}`, or a generic one. */
export function adminError(answer: AdminAnswer<unknown>): ShopError {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return new ShopError(
    answer.status >= 400 && answer.status < 600 ? answer.status : 502,
    typeof error?.code === 'string' ? error.code : 'signer_error',
    typeof error?.message === 'string' ? error.message : 'the payment service refused',
  );
}
