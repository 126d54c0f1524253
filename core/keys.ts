/**
 * The etcd key layout. Every key the system reads or writes is derived here from the configured
 * prefix, and every name is checked before it reaches a key: nothing else builds keys.
 *
 *   <prefix>jobs/<name>              job JSON                       until deleted
 *   <prefix>killer/<name>            kill request JSON              short lease
 *   <prefix>lock/<name>              holder of a running forbid job holder's session lease
 *   <prefix>ticks/<name>             last claimed tick (CAS)        until the job is deleted
 *   <prefix>workers/<agentId>        agent registration             agent session lease
 *   <prefix>running/<name>/<runId>   a run in flight                runner's session lease
 *   <prefix>maintenance/<task>       last period a fleet-wide chore was claimed for
 *   <prefix>manual/<name>            a run-now request waiting for its claim  short lease
 */
import { CronplaneError } from './errors.ts';
import { isValidName, isValidRunId } from './names.ts';

export const DEFAULT_PREFIX = '/cron/';

export type KeyKind =
  'jobs' | 'killer' | 'lock' | 'ticks' | 'workers' | 'running' | 'maintenance' | 'manual';

export interface KeyLayout {
  readonly prefix: string;
  readonly jobsPrefix: string;
  readonly killerPrefix: string;
  readonly lockPrefix: string;
  readonly ticksPrefix: string;
  readonly workersPrefix: string;
  readonly runningPrefix: string;
  job(name: string): string;
  killer(name: string): string;
  lock(name: string): string;
  tick(name: string): string;
  worker(agentId: string): string;
  running(name: string, runId: string): string;
  /** All runs in flight of one job. */
  runningOfJob(name: string): string;
  maintenance(task: 'retention'): string;
  manual(name: string): string;
  /** Splits a key of this layout into its kind and parts, or null for anything else. */
  parse(key: string): ParsedKey | null;
}

export type ParsedKey =
  | { readonly kind: 'jobs' | 'killer' | 'lock' | 'ticks' | 'manual'; readonly name: string }
  | { readonly kind: 'workers'; readonly agentId: string }
  | { readonly kind: 'running'; readonly name: string; readonly runId: string }
  | { readonly kind: 'maintenance'; readonly task: string };

const PREFIX_PATTERN = /^\/(?:[A-Za-z0-9._-]+\/)*$/;

export function isValidPrefix(prefix: string): boolean {
  return (
    PREFIX_PATTERN.test(prefix) && !prefix.split('/').some((part) => part === '.' || part === '..')
  );
}

function checkName(name: string, what: string): string {
  if (!isValidName(name))
    throw new CronplaneError('invalid_input', `invalid ${what} "${String(name)}"`, [
      { field: what, message: 'must match [A-Za-z0-9._-]{1,64}' },
    ]);
  return name;
}

export function createKeyLayout(prefix: string = DEFAULT_PREFIX): KeyLayout {
  if (!isValidPrefix(prefix)) {
    throw new CronplaneError(
      'invalid_config',
      `key prefix "${prefix}" must start and end with "/", e.g. /cron/`,
    );
  }
  const jobsPrefix = `${prefix}jobs/`;
  const killerPrefix = `${prefix}killer/`;
  const lockPrefix = `${prefix}lock/`;
  const ticksPrefix = `${prefix}ticks/`;
  const workersPrefix = `${prefix}workers/`;
  const runningPrefix = `${prefix}running/`;
  const maintenancePrefix = `${prefix}maintenance/`;

  return {
    prefix,
    jobsPrefix,
    killerPrefix,
    lockPrefix,
    ticksPrefix,
    workersPrefix,
    runningPrefix,
    job: (name) => jobsPrefix + checkName(name, 'job name'),
    killer: (name) => killerPrefix + checkName(name, 'job name'),
    lock: (name) => lockPrefix + checkName(name, 'job name'),
    tick: (name) => ticksPrefix + checkName(name, 'job name'),
    worker: (agentId) => workersPrefix + checkName(agentId, 'agent id'),
    running(name, runId) {
      if (!isValidRunId(runId))
        throw new CronplaneError('invalid_input', `invalid run id "${String(runId)}"`);
      return `${runningPrefix}${checkName(name, 'job name')}/${runId}`;
    },
    runningOfJob: (name) => `${runningPrefix}${checkName(name, 'job name')}/`,
    maintenance: (task) => maintenancePrefix + task,
    manual: (name) => `${prefix}manual/` + checkName(name, 'job name'),
    parse(key) {
      if (!key.startsWith(prefix)) return null;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) return null;
      const kind = rest.slice(0, slash);
      const tail = rest.slice(slash + 1);
      switch (kind) {
        case 'jobs':
        case 'killer':
        case 'lock':
        case 'ticks':
        case 'manual':
          return isValidName(tail) ? { kind, name: tail } : null;
        case 'workers':
          return isValidName(tail) ? { kind, agentId: tail } : null;
        case 'running': {
          const [name, runId, ...extra] = tail.split('/');
          return extra.length === 0 && isValidName(name) && isValidRunId(runId)
            ? { kind, name, runId }
            : null;
        }
        case 'maintenance':
          return tail.length > 0 && !tail.includes('/') ? { kind, task: tail } : null;
        default:
          return null;
      }
    },
  };
}

/**
 * Ticks are stored zero-padded so etcd's byte-wise value comparison orders them numerically:
 * the claim compare-and-swap is `value(ticks/<name>) < encodeTick(tick)`.
 */
export function encodeTick(tickMs: number): string {
  if (!Number.isSafeInteger(tickMs) || tickMs < 0) {
    throw new CronplaneError(
      'invalid_input',
      `a tick must be non-negative epoch ms, got ${tickMs}`,
    );
  }
  return String(tickMs).padStart(16, '0');
}

export function decodeTick(value: string): number | null {
  return /^\d{1,16}$/.test(value) ? Number(value) : null;
}
