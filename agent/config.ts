/**
 * Agent configuration: a JSON file (`--config FILE`), then environment variables, then flags —
 * each overriding the one before. Every value is validated; an invalid one names its field.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { CronplaneError, type FieldError } from '../core/errors.ts';
import { isWebhookUrl, validateLabels } from '../core/job.ts';
import { isValidName } from '../core/names.ts';
import { DEFAULT_PREFIX, isValidPrefix } from '../core/keys.ts';
import { DEFAULT_DATABASE } from '../core/run-log.ts';
import type { ExecutorPreference } from './executor-selection.ts';

const EXECUTOR_PREFERENCES: readonly ExecutorPreference[] = ['auto', 'launcher', 'node'];

export interface AgentConfig {
  readonly etcdEndpoints: readonly string[];
  readonly etcdUsername?: string;
  readonly etcdPassword?: string;
  readonly etcdCaFile?: string;
  readonly etcdCertFile?: string;
  readonly etcdKeyFile?: string;
  readonly mongoUrl: string;
  readonly database: string;
  readonly prefix: string;
  readonly agentId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly shell: string;
  /** How runs are started: `auto` prefers the launcher and falls back to Node (see executor-selection.ts). */
  readonly executor: ExecutorPreference;
  /** The launcher binary; by default looked for beside the agent. */
  readonly launcherPath?: string;
  readonly maxConcurrentRuns: number;
  readonly maxOutputBytes: number;
  readonly logBatchSize: number;
  readonly logFlushIntervalMs: number;
  /** Records held in memory before the rest wait only in the spill journal. */
  readonly logMaxBufferedRecords: number;
  readonly stateDir: string;
  readonly sessionTtlSeconds: number;
  /** Delay between ranks of the claim preference order. */
  readonly claimGraceMs: number;
  /** A tick not claimed this long after its time is skipped. */
  readonly misfireWindowMs: number;
  /**
   * How long before a tick its preferred agent claims it, so that the claim's etcd round trip
   * is over when the tick comes and the run starts on time. 0 claims at the tick.
   */
  readonly claimLeadMs: number;
  /** Grace between SIGTERM and SIGKILL on timeout and shutdown. */
  readonly killGraceMs: number;
  readonly shutdownGraceMs: number;
  readonly retentionDays: number;
  readonly controlPlaneUrl?: string;
  readonly agentToken?: string;
  /** PEM file of the CA that signed the control plane's certificate (self-signed setups). */
  readonly controlPlaneCaFile?: string;
  /** 0 serves no metrics. */
  readonly metricsPort: number;
  readonly metricsHost: string;
  /** Signs webhook deliveries (`x-cronplane-signature`); unsigned without it. */
  readonly webhookSecret?: string;
  /** Called on every failed run, in addition to the job's own `notify.failure`. */
  readonly notifyFailureUrls: readonly string[];
  /** Base URL of the console, for links in webhooks; defaults to controlPlaneUrl. */
  readonly consoleUrl?: string;
  /** For tests only: shifts the agent's notion of now. */
  readonly clockOffsetMs: number;
}

interface Field {
  readonly key: keyof AgentConfig;
  readonly flag: string;
  readonly env: string;
  readonly type: 'string' | 'int' | 'list' | 'labels';
}

const FIELDS: readonly Field[] = [
  { key: 'etcdEndpoints', flag: 'etcd-endpoints', env: 'CRONPLANE_ETCD_ENDPOINTS', type: 'list' },
  { key: 'etcdUsername', flag: 'etcd-username', env: 'CRONPLANE_ETCD_USERNAME', type: 'string' },
  { key: 'etcdPassword', flag: 'etcd-password', env: 'CRONPLANE_ETCD_PASSWORD', type: 'string' },
  { key: 'etcdCaFile', flag: 'etcd-ca-file', env: 'CRONPLANE_ETCD_CA_FILE', type: 'string' },
  { key: 'etcdCertFile', flag: 'etcd-cert-file', env: 'CRONPLANE_ETCD_CERT_FILE', type: 'string' },
  { key: 'etcdKeyFile', flag: 'etcd-key-file', env: 'CRONPLANE_ETCD_KEY_FILE', type: 'string' },
  { key: 'mongoUrl', flag: 'mongo-url', env: 'CRONPLANE_MONGO_URL', type: 'string' },
  { key: 'database', flag: 'database', env: 'CRONPLANE_DATABASE', type: 'string' },
  { key: 'prefix', flag: 'prefix', env: 'CRONPLANE_PREFIX', type: 'string' },
  { key: 'agentId', flag: 'agent-id', env: 'CRONPLANE_AGENT_ID', type: 'string' },
  { key: 'labels', flag: 'labels', env: 'CRONPLANE_LABELS', type: 'labels' },
  { key: 'shell', flag: 'shell', env: 'CRONPLANE_SHELL', type: 'string' },
  { key: 'executor', flag: 'executor', env: 'CRONPLANE_EXECUTOR', type: 'string' },
  { key: 'launcherPath', flag: 'launcher-path', env: 'CRONPLANE_LAUNCHER_PATH', type: 'string' },
  {
    key: 'maxConcurrentRuns',
    flag: 'max-concurrent-runs',
    env: 'CRONPLANE_MAX_CONCURRENT_RUNS',
    type: 'int',
  },
  {
    key: 'maxOutputBytes',
    flag: 'max-output-bytes',
    env: 'CRONPLANE_MAX_OUTPUT_BYTES',
    type: 'int',
  },
  { key: 'logBatchSize', flag: 'log-batch-size', env: 'CRONPLANE_LOG_BATCH_SIZE', type: 'int' },
  {
    key: 'logFlushIntervalMs',
    flag: 'log-flush-interval-ms',
    env: 'CRONPLANE_LOG_FLUSH_INTERVAL_MS',
    type: 'int',
  },
  {
    key: 'logMaxBufferedRecords',
    flag: 'log-max-buffered-records',
    env: 'CRONPLANE_LOG_MAX_BUFFERED_RECORDS',
    type: 'int',
  },
  { key: 'stateDir', flag: 'state-dir', env: 'CRONPLANE_STATE_DIR', type: 'string' },
  {
    key: 'sessionTtlSeconds',
    flag: 'session-ttl-seconds',
    env: 'CRONPLANE_SESSION_TTL_SECONDS',
    type: 'int',
  },
  { key: 'claimGraceMs', flag: 'claim-grace-ms', env: 'CRONPLANE_CLAIM_GRACE_MS', type: 'int' },
  {
    key: 'misfireWindowMs',
    flag: 'misfire-window-ms',
    env: 'CRONPLANE_MISFIRE_WINDOW_MS',
    type: 'int',
  },
  { key: 'claimLeadMs', flag: 'claim-lead-ms', env: 'CRONPLANE_CLAIM_LEAD_MS', type: 'int' },
  { key: 'killGraceMs', flag: 'kill-grace-ms', env: 'CRONPLANE_KILL_GRACE_MS', type: 'int' },
  {
    key: 'shutdownGraceMs',
    flag: 'shutdown-grace-ms',
    env: 'CRONPLANE_SHUTDOWN_GRACE_MS',
    type: 'int',
  },
  { key: 'retentionDays', flag: 'retention-days', env: 'CRONPLANE_RETENTION_DAYS', type: 'int' },
  {
    key: 'controlPlaneUrl',
    flag: 'control-plane-url',
    env: 'CRONPLANE_CONTROL_PLANE_URL',
    type: 'string',
  },
  { key: 'agentToken', flag: 'agent-token', env: 'CRONPLANE_AGENT_TOKEN', type: 'string' },
  {
    key: 'controlPlaneCaFile',
    flag: 'control-plane-ca-file',
    env: 'CRONPLANE_CONTROL_PLANE_CA_FILE',
    type: 'string',
  },
  { key: 'metricsPort', flag: 'metrics-port', env: 'CRONPLANE_METRICS_PORT', type: 'int' },
  { key: 'metricsHost', flag: 'metrics-host', env: 'CRONPLANE_METRICS_HOST', type: 'string' },
  { key: 'webhookSecret', flag: 'webhook-secret', env: 'CRONPLANE_WEBHOOK_SECRET', type: 'string' },
  {
    key: 'notifyFailureUrls',
    flag: 'notify-failure-urls',
    env: 'CRONPLANE_NOTIFY_FAILURE_URLS',
    type: 'list',
  },
  { key: 'consoleUrl', flag: 'console-url', env: 'CRONPLANE_CONSOLE_URL', type: 'string' },
  { key: 'clockOffsetMs', flag: 'clock-offset-ms', env: 'CRONPLANE_CLOCK_OFFSET_MS', type: 'int' },
];

/** Host names may carry characters keys do not allow; map them so the id stays stable. */
export function defaultAgentId(host: string = hostname()): string {
  const cleaned = host
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^\.+/, '')
    .slice(0, 64);
  return isValidName(cleaned) ? cleaned : 'agent';
}

/** What the agent uses where its file, environment and flags say nothing. */
export const AGENT_DEFAULTS = {
  etcdEndpoints: ['http://127.0.0.1:2379'],
  mongoUrl: 'mongodb://127.0.0.1:27017',
  database: DEFAULT_DATABASE,
  prefix: DEFAULT_PREFIX,
  labels: {},
  shell: '/bin/bash',
  executor: 'auto',
  maxConcurrentRuns: 64,
  maxOutputBytes: 256 * 1024,
  logBatchSize: 200,
  logFlushIntervalMs: 500,
  logMaxBufferedRecords: 10_000,
  stateDir: '/var/lib/cronplane',
  sessionTtlSeconds: 10,
  claimGraceMs: 150,
  // Quartz's misfire threshold: a burst beyond the machine's launch rate runs late, not never.
  misfireWindowMs: 60_000,
  claimLeadMs: 200,
  killGraceMs: 5_000,
  shutdownGraceMs: 30_000,
  retentionDays: 30,
  clockOffsetMs: 0,
  metricsPort: 0,
  metricsHost: '127.0.0.1',
  notifyFailureUrls: [],
} satisfies Partial<AgentConfig>;

/** The longest misfire window an agent may have: no tick older than this is ever claimed. */
export const MAX_MISFIRE_WINDOW_MS = 3_600_000;

const INT_RANGES: Partial<Record<keyof AgentConfig, readonly [number, number]>> = {
  maxConcurrentRuns: [1, 10_000],
  // A run's record is one MongoDB document (16 MiB at most), and output that is not UTF-8 can
  // triple in size as U+FFFD replacement characters: 4 MiB of output stays under the limit.
  maxOutputBytes: [1024, 4 * 1024 * 1024],
  logBatchSize: [1, 10_000],
  logFlushIntervalMs: [10, 600_000],
  logMaxBufferedRecords: [1, 1_000_000],
  sessionTtlSeconds: [2, 600],
  claimGraceMs: [10, 10_000],
  misfireWindowMs: [100, MAX_MISFIRE_WINDOW_MS],
  claimLeadMs: [0, 5_000],
  killGraceMs: [0, 600_000],
  shutdownGraceMs: [0, 3_600_000],
  retentionDays: [0, 36_500],
  clockOffsetMs: [-3_600_000, 3_600_000],
  metricsPort: [0, 65_535],
};

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').filter((p) => p.trim().length > 0)) {
    const eq = pair.indexOf('=');
    labels[(eq < 0 ? pair : pair.slice(0, eq)).trim()] = eq < 0 ? '' : pair.slice(eq + 1).trim();
  }
  return labels;
}

function coerce(field: Field, value: unknown, source: string, errors: FieldError[]): unknown {
  const at = `${field.key} (${source})`;
  switch (field.type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'int': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
      errors.push({ field: field.key, message: `${at} must be an integer` });
      return undefined;
    }
    case 'list':
      if (typeof value === 'string')
        return value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
      break;
    case 'labels':
      if (typeof value === 'string') return parseLabels(value);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
      break;
  }
  errors.push({ field: field.key, message: `${at} has the wrong type` });
  return undefined;
}

export function loadAgentConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): AgentConfig {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const field of FIELDS) options[field.flag] = { type: 'string' };
  let flags: Record<string, string | undefined>;
  try {
    flags = parseArgs({ args: [...argv], options, allowPositionals: false }).values;
  } catch (error) {
    throw new CronplaneError(
      'invalid_config',
      error instanceof Error ? error.message : String(error),
    );
  }

  const errors: FieldError[] = [];
  const merged: Record<string, unknown> = { ...AGENT_DEFAULTS, agentId: defaultAgentId() };
  const configFile = flags.config ?? env.CRONPLANE_CONFIG;
  if (configFile !== undefined) {
    let fromFile: unknown;
    try {
      fromFile = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (error) {
      throw new CronplaneError(
        'invalid_config',
        `cannot read config file ${configFile}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
      throw new CronplaneError(
        'invalid_config',
        `config file ${configFile} must hold a JSON object`,
      );
    }
    const known = new Set<string>(FIELDS.map((f) => f.key));
    for (const [key, value] of Object.entries(fromFile)) {
      const field = FIELDS.find((f) => f.key === key);
      if (!field || !known.has(key))
        errors.push({ field: key, message: `${key} (config file) is not a known setting` });
      else merged[key] = coerce(field, value, 'config file', errors);
    }
  }
  for (const field of FIELDS) {
    const fromEnv = env[field.env];
    if (fromEnv !== undefined && fromEnv !== '')
      merged[field.key] = coerce(field, fromEnv, field.env, errors);
    const fromFlag = flags[field.flag];
    if (fromFlag !== undefined)
      merged[field.key] = coerce(field, fromFlag, `--${field.flag}`, errors);
  }

  const endpoints = merged.etcdEndpoints as string[] | undefined;
  if (
    !endpoints ||
    endpoints.length === 0 ||
    !endpoints.every((e) => /^https?:\/\/[^\s/]+$/.test(e))
  ) {
    errors.push({
      field: 'etcdEndpoints',
      message: 'etcdEndpoints must be a list of http(s)://host:port URLs',
    });
  }
  if (typeof merged.mongoUrl !== 'string' || !/^mongodb(\+srv)?:\/\//.test(merged.mongoUrl)) {
    errors.push({
      field: 'mongoUrl',
      message: 'mongoUrl must be a mongodb:// or mongodb+srv:// URL',
    });
  }
  if (typeof merged.database !== 'string' || !/^[A-Za-z0-9_-]{1,63}$/.test(merged.database)) {
    errors.push({ field: 'database', message: 'database must match [A-Za-z0-9_-]{1,63}' });
  }
  if (typeof merged.prefix !== 'string' || !isValidPrefix(merged.prefix)) {
    errors.push({ field: 'prefix', message: 'prefix must start and end with "/", e.g. /cron/' });
  }
  if (!isValidName(merged.agentId))
    errors.push({ field: 'agentId', message: 'agentId must match [A-Za-z0-9._-]{1,64}' });
  errors.push(...validateLabels(merged.labels, 'labels'));
  if (typeof merged.shell !== 'string' || !merged.shell.startsWith('/')) {
    errors.push({ field: 'shell', message: 'shell must be an absolute path' });
  }
  if (!EXECUTOR_PREFERENCES.includes(merged.executor as ExecutorPreference)) {
    errors.push({ field: 'executor', message: 'executor must be auto, launcher or node' });
  }
  if (
    merged.launcherPath !== undefined &&
    (typeof merged.launcherPath !== 'string' || !merged.launcherPath.startsWith('/'))
  ) {
    errors.push({ field: 'launcherPath', message: 'launcherPath must be an absolute path' });
  }
  if (
    merged.controlPlaneUrl !== undefined &&
    (typeof merged.controlPlaneUrl !== 'string' || !/^https?:\/\/\S+$/.test(merged.controlPlaneUrl))
  ) {
    errors.push({ field: 'controlPlaneUrl', message: 'controlPlaneUrl must be an http(s) URL' });
  }
  const failureUrls = merged.notifyFailureUrls;
  if (!Array.isArray(failureUrls) || !failureUrls.every(isWebhookUrl)) {
    errors.push({
      field: 'notifyFailureUrls',
      message: 'notifyFailureUrls must be a list of http(s) URLs',
    });
  }
  if ((merged.controlPlaneUrl === undefined) !== (merged.agentToken === undefined)) {
    errors.push({ field: 'agentToken', message: 'controlPlaneUrl and agentToken go together' });
  }
  if (typeof merged.stateDir !== 'string' || merged.stateDir.length === 0) {
    errors.push({ field: 'stateDir', message: 'stateDir must be a path' });
  }
  for (const [key, [min, max]] of Object.entries(INT_RANGES) as [
    keyof AgentConfig,
    readonly [number, number],
  ][]) {
    const value = merged[key];
    if (typeof value === 'number' && (value < min || value > max)) {
      errors.push({ field: key, message: `${key} must be between ${min} and ${max}` });
    }
  }
  if (errors.length > 0) {
    throw new CronplaneError(
      'invalid_config',
      `invalid agent configuration: ${errors.map((e) => e.message).join('; ')}`,
      errors,
    );
  }
  return merged as unknown as AgentConfig;
}
