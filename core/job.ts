/**
 * The job model: validation (every field error at once) and defaults (applied here only).
 * Field names follow the Go crontab this design descends from (`name`, `command`, `cronExpr`),
 * so a job it wrote — `{"name","command","cronExpr"}` only — reads without error.
 */
import type { FieldError } from './errors.ts';
import { ValidationError } from './errors.ts';
import { isValidName } from './names.ts';
import { isValidTimeZone } from './time-zone.ts';
import { CronExpressionError, parseSchedule } from './cron/schedule.ts';

export type Concurrency = 'forbid' | 'allow';

export interface Job {
  readonly name: string;
  readonly command: string;
  readonly cronExpr: string;
  /** IANA zone the expression is read in. */
  readonly timezone: string;
  readonly enabled: boolean;
  /** 0 means no timeout. */
  readonly timeoutSec: number;
  readonly concurrency: Concurrency;
  /** Agent selector: an agent runs the job only if it carries every one of these labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
  /** Epoch ms of the last write through the API; 0 for jobs written by other tools. */
  readonly updatedAt: number;
  /** Extra attempts after a failed run (0–10). */
  readonly retries: number;
  /** Delay before the first retry; doubles per attempt, capped, with jitter. */
  readonly retryDelaySec: number;
  readonly notify: JobNotify;
}

/** Webhook URLs called with a signed run summary when a run ends so. */
export interface JobNotify {
  readonly failure: readonly string[];
  readonly success: readonly string[];
}

export const MAX_COMMAND_BYTES = 64 * 1024;
export const MAX_DESCRIPTION_CHARS = 1024;
export const MAX_LABELS = 16;
export const MAX_TIMEOUT_SEC = 7 * 24 * 3600;
export const MAX_RETRIES = 10;
export const MAX_RETRY_DELAY_SEC = 3600;
export const MAX_WEBHOOKS = 5;
const LABEL_KEY = /^[A-Za-z0-9._/-]{1,63}$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]{0,63}$/;

export const JOB_DEFAULTS = {
  timezone: 'UTC',
  enabled: true,
  timeoutSec: 0,
  concurrency: 'forbid',
  labels: {},
  description: '',
  updatedAt: 0,
  retries: 0,
  retryDelaySec: 10,
  notify: { failure: [], success: [] },
} as const satisfies Omit<Job, 'name' | 'command' | 'cronExpr'>;

const JOB_FIELDS = new Set<string>(['name', 'command', 'cronExpr', ...Object.keys(JOB_DEFAULTS)]);

export type JobValidation =
  | { readonly ok: true; readonly job: Job }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function byteLength(text: string): number {
  // UTF-8 length without TextEncoder, which core's lib does not declare.
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3; // including a lone surrogate, which UTF-8 encoders write as U+FFFD
  }
  return bytes;
}

/**
 * Validates untrusted input into a Job with defaults applied. Unknown fields are rejected so a
 * typo (`timeout` for `timeoutSec`) is an error rather than a silently ignored setting.
 */
export function validateJob(
  input: unknown,
  options: { allowUnknownFields?: boolean } = {},
): JobValidation {
  const errors: FieldError[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '', message: 'a job must be a JSON object' }] };
  }
  const raw = input as Record<string, unknown>;
  if (!options.allowUnknownFields) {
    for (const key of Object.keys(raw)) {
      if (!JOB_FIELDS.has(key)) errors.push({ field: key, message: 'unknown field' });
    }
  }

  const { name, command, cronExpr } = raw;
  if (!isValidName(name)) {
    errors.push({
      field: 'name',
      message: 'must match [A-Za-z0-9._-]{1,64} and not be "." or ".."',
    });
  }
  if (typeof command !== 'string' || command.trim().length === 0) {
    errors.push({ field: 'command', message: 'must be a non-empty string' });
  } else if (byteLength(command) > MAX_COMMAND_BYTES) {
    errors.push({ field: 'command', message: `must be at most ${MAX_COMMAND_BYTES} bytes` });
  } else if (command.includes('\0')) {
    errors.push({ field: 'command', message: 'must not contain NUL characters' });
  }

  const timezone = raw.timezone ?? JOB_DEFAULTS.timezone;
  const timezoneValid = isValidTimeZone(timezone);
  if (!timezoneValid)
    errors.push({
      field: 'timezone',
      message: 'must be a valid IANA time zone, e.g. Europe/Berlin',
    });

  if (typeof cronExpr !== 'string' || cronExpr.trim().length === 0) {
    errors.push({ field: 'cronExpr', message: 'must be a non-empty cron expression' });
  } else if (cronExpr.length > 256) {
    errors.push({ field: 'cronExpr', message: 'must be at most 256 characters' });
  } else {
    try {
      parseSchedule(cronExpr, timezoneValid ? timezone : 'UTC');
    } catch (error) {
      if (!(error instanceof CronExpressionError)) throw error;
      errors.push({ field: 'cronExpr', message: error.message });
    }
  }

  const enabled = raw.enabled ?? JOB_DEFAULTS.enabled;
  if (typeof enabled !== 'boolean')
    errors.push({ field: 'enabled', message: 'must be true or false' });

  const timeoutSec = raw.timeoutSec ?? JOB_DEFAULTS.timeoutSec;
  if (
    typeof timeoutSec !== 'number' ||
    !Number.isInteger(timeoutSec) ||
    timeoutSec < 0 ||
    timeoutSec > MAX_TIMEOUT_SEC
  ) {
    errors.push({
      field: 'timeoutSec',
      message: `must be an integer from 0 (none) to ${MAX_TIMEOUT_SEC}`,
    });
  }

  const concurrency = raw.concurrency ?? JOB_DEFAULTS.concurrency;
  if (concurrency !== 'forbid' && concurrency !== 'allow') {
    errors.push({ field: 'concurrency', message: 'must be "forbid" or "allow"' });
  }

  const labels = raw.labels ?? JOB_DEFAULTS.labels;
  errors.push(...validateLabels(labels, 'labels'));

  const description = raw.description ?? JOB_DEFAULTS.description;
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION_CHARS) {
    errors.push({
      field: 'description',
      message: `must be a string of at most ${MAX_DESCRIPTION_CHARS} characters`,
    });
  }

  const updatedAt = raw.updatedAt ?? JOB_DEFAULTS.updatedAt;
  if (typeof updatedAt !== 'number' || !Number.isSafeInteger(updatedAt) || updatedAt < 0) {
    errors.push({ field: 'updatedAt', message: 'must be epoch milliseconds' });
  }

  const retries = raw.retries ?? JOB_DEFAULTS.retries;
  if (
    typeof retries !== 'number' ||
    !Number.isInteger(retries) ||
    retries < 0 ||
    retries > MAX_RETRIES
  ) {
    errors.push({ field: 'retries', message: `must be an integer from 0 to ${MAX_RETRIES}` });
  }
  const retryDelaySec = raw.retryDelaySec ?? JOB_DEFAULTS.retryDelaySec;
  if (
    typeof retryDelaySec !== 'number' ||
    !Number.isInteger(retryDelaySec) ||
    retryDelaySec < 0 ||
    retryDelaySec > MAX_RETRY_DELAY_SEC
  ) {
    errors.push({
      field: 'retryDelaySec',
      message: `must be an integer from 0 to ${MAX_RETRY_DELAY_SEC}`,
    });
  }
  const notify = readNotify(raw.notify ?? JOB_DEFAULTS.notify, errors);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    job: {
      name: name as string,
      command: command as string,
      cronExpr: (cronExpr as string).trim(),
      timezone: timezone as string,
      enabled: enabled as boolean,
      timeoutSec: timeoutSec as number,
      concurrency: concurrency as Concurrency,
      labels: { ...(labels as Record<string, string>) },
      description: description as string,
      updatedAt: updatedAt as number,
      retries: retries as number,
      retryDelaySec: retryDelaySec as number,
      notify,
    },
  };
}

export function isWebhookUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  return /^https?:\/\/[^\s/?#]+(?:[/?#][^\s]*)?$/.test(value);
}

function readNotify(value: unknown, errors: FieldError[]): JobNotify {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push({
      field: 'notify',
      message: 'must be an object with "failure" and/or "success" URL lists',
    });
    return JOB_DEFAULTS.notify;
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key !== 'failure' && key !== 'success')
      errors.push({ field: `notify.${key}`, message: 'unknown field' });
  }
  const list = (key: 'failure' | 'success'): string[] => {
    const urls = raw[key] ?? [];
    if (!Array.isArray(urls) || urls.length > MAX_WEBHOOKS || !urls.every(isWebhookUrl)) {
      errors.push({
        field: `notify.${key}`,
        message: `must be a list of at most ${MAX_WEBHOOKS} http(s) URLs`,
      });
      return [];
    }
    return [...urls];
  };
  return { failure: list('failure'), success: list('success') };
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    return [{ field, message: 'must be an object of string values' }];
  }
  const entries = Object.entries(labels);
  const errors: FieldError[] = [];
  if (entries.length > MAX_LABELS) errors.push({ field, message: `at most ${MAX_LABELS} labels` });
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key))
      errors.push({
        field: `${field}.${key}`,
        message: 'label keys must match [A-Za-z0-9._/-]{1,63}',
      });
    else if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      errors.push({
        field: `${field}.${key}`,
        message: 'label values must match [A-Za-z0-9._-]{0,63}',
      });
    }
  }
  return errors;
}

/** Validates or throws a ValidationError carrying every field error. */
export function parseJob(input: unknown): Job {
  const result = validateJob(input);
  if (!result.ok) throw new ValidationError('invalid job', result.errors);
  return result.job;
}

/**
 * Reads a job stored in etcd. Tolerates fields this version does not know (written by a newer
 * cronplane or another tool) so one odd key never stops an agent from scheduling the rest.
 */
export function readStoredJob(json: string): JobValidation {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, errors: [{ field: '', message: 'stored job is not valid JSON' }] };
  }
  return validateJob(value, { allowUnknownFields: true });
}

/** True when an agent carrying `agentLabels` may run a job that selects `jobLabels`. */
export function labelsMatch(
  jobLabels: Readonly<Record<string, string>>,
  agentLabels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(jobLabels)) {
    if (agentLabels[key] !== value) return false;
  }
  return true;
}
