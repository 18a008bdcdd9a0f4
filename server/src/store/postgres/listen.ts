import type Pg from 'pg';
import { pgDriver } from '../drivers.js';

/** Wait before reconnecting a lost LISTEN connection. */
const RECONNECT_DELAY_MS = 1000;

/** Fans out one PostgreSQL notification channel to in-process listeners. */
export interface ChannelListener {
  /** Adds a listener, connecting and running `LISTEN` first if needed; returns its removal. */
  add(listener: (payload: string) => void): Promise<() => Promise<void>>;
  /** Removes every listener and ends the connection. */
  close(): Promise<void>;
}

/**
 * One dedicated connection (outside the pool, which it would otherwise hold forever) that LISTENs on
 * `channel` while at least one listener is registered. A lost connection is re-established after
 * {@link RECONNECT_DELAY_MS}; notifications sent in the gap are lost, which is why the widget also
 * polls the signer.
 */
export function listenToChannel(config: Pg.ClientConfig, channel: string): ChannelListener {
  const listeners = new Set<(payload: string) => void>();
  let client: Pg.Client | null = null;
  let starting: Promise<void> | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;

  function dispatch(message: Pg.Notification): void {
    const payload = message.payload;
    if (message.channel !== channel || payload === undefined) return;
    // Outside pg's socket handler, so a throwing listener cannot break the connection.
    for (const listener of listeners) queueMicrotask(() => listener(payload));
  }

  function lost(from: Pg.Client): void {
    if (client !== from) return;
    client = null;
    from.end().catch(() => undefined);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || listeners.size === 0 || retry !== null) return;
    retry = setTimeout(() => {
      retry = null;
      connected().catch(scheduleReconnect);
    }, RECONNECT_DELAY_MS);
    retry.unref();
  }

  async function connect(): Promise<void> {
    const candidate = new (pgDriver().Client)(config);
    candidate.on('notification', dispatch);
    // Without an 'error' handler a dropped connection would crash the process.
    candidate.on('error', () => lost(candidate));
    candidate.on('end', () => lost(candidate));
    try {
      await candidate.connect();
      await candidate.query(`LISTEN ${pgDriver().escapeIdentifier(channel)}`);
    } catch (error) {
      await candidate.end().catch(() => undefined);
      throw error;
    }
    if (closed || listeners.size === 0) {
      await candidate.end();
      return;
    }
    client = candidate;
  }

  function connected(): Promise<void> {
    if (client !== null) return Promise.resolve();
    starting ??= connect().finally(() => {
      starting = null;
    });
    return starting;
  }

  async function disconnect(): Promise<void> {
    if (retry !== null) {
      clearTimeout(retry);
      retry = null;
    }
    // A connect in progress sees no listeners when it finishes and ends its own connection.
    await starting?.catch(() => undefined);
    if (listeners.size > 0) return;
    const current = client;
    client = null;
    await current?.end();
  }

  return {
    async add(listener) {
      if (closed) throw new Error('the store is closed');
      const own = (payload: string) => listener(payload);
      listeners.add(own);
      try {
        await connected();
      } catch (error) {
        listeners.delete(own);
        throw error;
      }
      return async () => {
        if (!listeners.delete(own)) return;
        if (listeners.size === 0) await disconnect();
      };
    },

    async close() {
      closed = true;
      listeners.clear();
      await disconnect();
    },
  };
}
