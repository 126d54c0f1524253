/**
 * What fills a V8 heap: a .heapsnapshot (node --heapsnapshot-signal) summed by what each object
 * is — constructor name for objects, one bucket per kind for strings, arrays, code and the rest.
 */
import { readFileSync } from 'node:fs';

export interface HeapBucket {
  readonly what: string;
  readonly count: number;
  readonly mib: number;
}

export interface HeapSummary {
  readonly totalMiB: number;
  readonly top: HeapBucket[];
}

interface Snapshot {
  readonly snapshot: {
    readonly meta: { readonly node_fields: string[]; readonly node_types: unknown[] };
  };
  readonly nodes: number[];
  readonly strings: string[];
}

const BY_NAME = new Set(['object', 'closure', 'native', 'hidden', 'synthetic']);

export function summarizeHeapSnapshot(file: string, top = 12): HeapSummary {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const buckets = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? '?';
    const size = snap.nodes[i + sizeAt] ?? 0;
    total += size;
    const name = snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '';
    const what = BY_NAME.has(type) ? `${name || '(anonymous)'} (${type})` : `(${type})`;
    const bucket = buckets.get(what) ?? { count: 0, bytes: 0 };
    bucket.count++;
    bucket.bytes += size;
    buckets.set(what, bucket);
  }
  const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
  return {
    totalMiB: mib(total),
    top: [...buckets.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([what, b]) => ({ what, count: b.count, mib: mib(b.bytes) })),
  };
}
