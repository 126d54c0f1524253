/**
 * Settings of the long-running commands (`control-plane`, `relay`): a JSON file (`--config`),
 * then environment variables, then flags, each overriding the one before — as the agent does.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readTlsFiles, type TlsCredentials } from '../control-plane/entry/tls.ts';
import { CronplaneError } from '../core/errors.ts';
import { isRecord } from '../core/wire.ts';

export interface Setting {
  readonly flag: string;
  readonly env?: string;
}

export type Settings<K extends string> = Readonly<Record<K, string | undefined>>;

function readConfigFile(path: string, keys: readonly string[]): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CronplaneError('invalid_config', `cannot read config file ${path}: ${reason}`);
  }
  if (!isRecord(value)) throw new CronplaneError('invalid_config', `${path} must hold an object`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!keys.includes(key)) {
      throw new CronplaneError('invalid_config', `${path}: unknown setting "${key}"`);
    }
    if (typeof v === 'string' || typeof v === 'number') out[key] = String(v);
    else if (Array.isArray(v) && v.every((item) => typeof item === 'string'))
      out[key] = v.join(',');
    else throw new CronplaneError('invalid_config', `${path}: "${key}" must be a string`);
  }
  return out;
}

/** Resolves every setting; unknown flags and stray arguments are `invalid_config`. */
export function resolveSettings<K extends string>(
  args: readonly string[],
  settings: Readonly<Record<K, Setting>>,
  env: NodeJS.ProcessEnv = process.env,
): Settings<K> {
  const keys = Object.keys(settings) as K[];
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const key of keys) options[settings[key].flag] = { type: 'string' };
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new CronplaneError(
      'invalid_config',
      error instanceof Error ? error.message : String(error),
    );
  }
  const file = typeof values.config === 'string' ? readConfigFile(values.config, keys) : {};
  const resolved = {} as Record<K, string | undefined>;
  for (const key of keys) {
    const { flag, env: envName } = settings[key];
    const fromFlag = values[flag];
    const fromEnv = envName === undefined ? undefined : env[envName];
    resolved[key] =
      fromFlag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined) ?? file[key];
  }
  return resolved;
}

export function parsePort(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new CronplaneError('invalid_config', `port "${text}" must be an integer 0–65535`);
  }
  return port;
}

export function parseList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') {
    throw new CronplaneError('invalid_config', `${what} is required`);
  }
  return value;
}

/** Resolves with the name of the first SIGTERM or SIGINT. */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Runs a server command's body, turning configuration errors into exit code 2. */
export async function runServerCommand(name: string, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cronplane ${name}: ${message}\n`);
    return error instanceof CronplaneError && error.code === 'invalid_config' ? 2 : 1;
  }
}

/** `--tls-cert` and `--tls-key` go together; either alone is a mistake worth naming. */
export function tlsOption(
  certFile: string | undefined,
  keyFile: string | undefined,
): { tls?: TlsCredentials } {
  if (certFile === undefined && keyFile === undefined) return {};
  if (certFile === undefined || keyFile === undefined) {
    throw new CronplaneError('invalid_config', '--tls-cert and --tls-key go together');
  }
  return { tls: readTlsFiles({ certFile, keyFile }) };
}

/** `--metrics-port N` serves /metrics on loopback; absent or 0 serves none. */
export function metricsOption(port: string | undefined): {
  metrics?: { port: number; host: string };
} {
  if (port === undefined || port === '0') return {};
  return { metrics: { port: parsePort(port, 0), host: '127.0.0.1' } };
}
