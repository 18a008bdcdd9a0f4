/**
 * Batching by turn of the event loop: the keys asked for while one turn runs are handled by one call after
 * it. Under load, PostgreSQL's cost is mostly per statement (round trip, bind, executor start, commit), not per
 * row: IPNs served concurrently share one lookup and one NOTIFY instead of taking one each.
 */

/** Returns `ask`: adds `key` to this turn's batch and resolves (or rejects) with the batch's result. */
export function perTurn<K, R>(run: (keys: ReadonlySet<K>) => Promise<R>): (key: K) => Promise<R> {
  let pending: { keys: Set<K>; result: Promise<R> } | null = null;
  return key => {
    if (pending === null) {
      const keys = new Set<K>();
      const ran = new Promise<void>(resolve => setImmediate(resolve)).then(() => {
        pending = null;
        return run(keys);
      });
      pending = { keys, result: ran };
    }
    pending.keys.add(key);
    return pending.result;
  };
}
