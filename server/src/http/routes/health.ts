/**
 * `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the store answers and the
 * signer is not draining). A ready answer also reports the gateway's circuit breaker; an open circuit never
 * fails readiness: IPNs, reads and the return pages still work, and every signer would fail it at once.
 */

import type { RequestHandler } from 'express';
import type { GatewayClient } from '../../gateway/client.js';
import type { Store } from '../../store/store.js';

export interface HealthDeps {
  store: Store;
  gateway: GatewayClient;
  /** True once shutdown began: readiness fails first (T31). */
  draining: () => boolean;
}

export function healthHandlers(deps: HealthDeps): Record<'live' | 'ready', RequestHandler> {
  const live: RequestHandler = (_req, res) => {
    res.json({ status: 'ok' });
  };

  const ready: RequestHandler = async (_req, res) => {
    const storeOk = await deps.store.getOrder('readyz-probe').then(
      () => true,
      () => false,
    );
    const draining = deps.draining();
    if (storeOk && !draining) {
      res.status(200).json({ status: 'ready', gateway: deps.gateway.circuitState() });
      return;
    }
    res.status(503).json({ status: draining ? 'draining' : 'store_unavailable' });
  };

  return { live, ready };
}
