/**
 * Coalesces calls made in the same turn of the event loop into batches: each `submit` joins the
 * open batch (at most `maxItems`, one item per key), and every open batch is flushed once the
 * turn's timers and I/O callbacks have run (setImmediate). A burst of ticks due at one instant
 * therefore costs one etcd transaction per batch instead of one per tick, while a lone call waits
 * for nothing but the end of its turn.
 */
export interface BatcherOptions<T, R> {
  readonly maxItems: number;
  /** Items with the same key never share a batch (etcd refuses a txn touching a key twice). */
  readonly keyOf: (item: T) => string;
  /** Settles every item of a batch: one result per item, in order; a rejection fails them all. */
  readonly flush: (items: readonly T[]) => Promise<readonly R[]>;
}

interface OpenBatch<T, R> {
  readonly items: T[];
  readonly keys: Set<string>;
  readonly settlers: { resolve: (result: R) => void; reject: (error: unknown) => void }[];
}

export function createBatcher<T, R>(options: BatcherOptions<T, R>): (item: T) => Promise<R> {
  let open: OpenBatch<T, R>[] = [];
  let scheduled = false;

  function send(batch: OpenBatch<T, R>): void {
    options.flush(batch.items).then(
      (results) => {
        batch.settlers.forEach((settler, i) => settler.resolve(results[i] as R));
      },
      (error: unknown) => {
        for (const settler of batch.settlers) settler.reject(error);
      },
    );
  }

  function flushOpen(): void {
    scheduled = false;
    const batches = open;
    open = [];
    for (const batch of batches) send(batch);
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      const key = options.keyOf(item);
      let batch = open.find((b) => !b.keys.has(key));
      if (batch === undefined) {
        batch = { items: [], keys: new Set(), settlers: [] };
        open.push(batch);
      }
      batch.items.push(item);
      batch.keys.add(key);
      batch.settlers.push({ resolve, reject });
      if (batch.items.length >= options.maxItems) {
        open = open.filter((b) => b !== batch);
        send(batch);
      }
      if (!scheduled && open.length > 0) {
        scheduled = true;
        setImmediate(flushOpen);
      }
    });
}
