/**
 * Which etcd the stack runs: the current one scripts/build-etcd.sh builds into .cache/ (what
 * `npm start`, the tests, the chaos suite and the benchmarks use by default), or the one on
 * PATH (Debian's 3.4 here) with CRONPLANE_ETCD=system, or a binary named by its path in
 * CRONPLANE_ETCD. Without a build, the etcd on PATH.
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Keep in step with VERSION in scripts/build-etcd.sh. */
export const BUILT_ETCD_VERSION = 'v3.6.16';

const BUILT_ETCD = fileURLToPath(
  new URL(`../../.cache/etcd/bin/etcd-${BUILT_ETCD_VERSION}`, import.meta.url),
);

export function etcdCommand(choice = process.env.CRONPLANE_ETCD ?? ''): string {
  if (choice === 'system') return 'etcd';
  if (choice !== '') return choice;
  try {
    accessSync(BUILT_ETCD, constants.X_OK);
    return BUILT_ETCD;
  } catch {
    return 'etcd';
  }
}
