/**
 * etcd write requests, read from etcd's own Prometheus endpoint: completed unary RPCs of the
 * methods that change state (`grpc_server_handled_total`). Streams (watch, lease keep-alive)
 * count only when they close, so they are not part of this figure.
 */

export const WRITE_METHODS = ['Txn', 'Put', 'DeleteRange', 'LeaseGrant', 'LeaseRevoke'] as const;

export type WriteCounts = Record<(typeof WRITE_METHODS)[number], number>;

export async function etcdWriteCounts(metricsUrl: string): Promise<WriteCounts> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  const counts: WriteCounts = { Txn: 0, Put: 0, DeleteRange: 0, LeaseGrant: 0, LeaseRevoke: 0 };
  for (const line of text.split('\n')) {
    const match = /^grpc_server_handled_total\{([^}]*)\} (\d+)/.exec(line);
    if (!match) continue;
    const method = /grpc_method="(\w+)"/.exec(match[1] ?? '')?.[1];
    if (method !== undefined && method in counts)
      counts[method as keyof WriteCounts] += Number(match[2]);
  }
  return counts;
}

export function writesBetween(before: WriteCounts, after: WriteCounts): WriteCounts {
  const delta = { ...after };
  for (const method of WRITE_METHODS) delta[method] = after[method] - before[method];
  return delta;
}

export function totalWrites(counts: WriteCounts): number {
  return WRITE_METHODS.reduce((sum, method) => sum + counts[method], 0);
}
