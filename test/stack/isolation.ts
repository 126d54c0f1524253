/** Names that keep tests sharing one stack from seeing each other's keys and documents. */
import { randomBytes } from 'node:crypto';

function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** An etcd key prefix of its own, shaped like the default `/cron/`: `/cron-test-<random>/`. */
export function uniquePrefix(): string {
  return `/cron-test-${randomSuffix()}/`;
}

/** A MongoDB database of its own: `cron_test_<random>` (valid on MongoDB and FerretDB). */
export function uniqueDatabase(): string {
  return `cron_test_${randomSuffix()}`;
}
