/**
 * `getSessionByGatewayOrderId` on PostgreSQL: the first step of every IPN, so the lookups asked for in one
 * turn of the event loop go in one statement (`per-turn.ts`). A read, so sharing it changes no outcome: each
 * caller gets the row as it was when the statement ran, as its own statement would have given it.
 */

import { sessionFromRow, text, type Row } from '../rows.js';
import { sql } from '../sql/dialect.js';
import { SESSION_COLUMNS } from '../sql/statements.js';
import type { Session } from '../types.js';
import { query, type Queryable } from './database.js';
import { perTurn } from './per-turn.js';

const SESSIONS_BY_GATEWAY_ORDERS = sql(
  'sessions_by_gateway_orders',
  p => `SELECT ${SESSION_COLUMNS} FROM sessions WHERE gateway_order_id = ANY(${p('ids')})`,
  { prepared: true },
);

export function batchedSessionLookup(
  db: Queryable,
): (gatewayOrderId: string) => Promise<Session | null> {
  const lookup = perTurn(async (ids: ReadonlySet<string>) => {
    const { rows } = await db.query<Row>(query(SESSIONS_BY_GATEWAY_ORDERS, { ids: [...ids] }));
    return new Map(rows.map(row => [text(row, 'gateway_order_id'), row]));
  });
  return async gatewayOrderId => {
    const row = (await lookup(gatewayOrderId)).get(gatewayOrderId);
    // Each caller its own Session: two IPNs of one order in one turn must not share an object.
    return row === undefined ? null : sessionFromRow(row);
  };
}
