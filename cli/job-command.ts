/** `cronplane job ls|get|put|rm|kill|run|runs|run-log`: the API from the command line. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JobView, RunListItem, VersionedJob } from '../core/api.ts';
import { toListOf, toJobView, toRunPage, toRunRecord, toVersionedJob } from '../core/api.ts';
import { CronplaneError } from '../core/errors.ts';
import { isRecord } from '../core/wire.ts';
import type { ApiClient } from './api-client.ts';
import { createApiClient, resolveTarget } from './api-client.ts';
import { formatDurationMs, formatTable, formatTime, oneLine } from './table.ts';

const USAGE = `usage: cronplane job <command> [--url URL] [--token T] [--json]

  ls                         every job with its last run
  get NAME                   one job
  put NAME --cron EXPR --command CMD [--tz ZONE] [--timeout-sec N] [--concurrency forbid|allow]
           [--label k=v]... [--disabled] [--description TEXT] [--if-match REVISION]
  put [NAME] --file job.json create or replace a job from JSON ("-" reads stdin)
  rm NAME                    delete a job (runs in flight are not killed)
  kill NAME [--run RUN_ID]   ask the agents to kill the job's runs
  run NAME                   start one extra run now (waits until an agent claims it)
  runs NAME [--limit N] [--before CURSOR]
                             the job's runs, newest first
  run-log RUN_ID             one run's full output

put replaces the whole job: settings not given take their defaults.
The API is found with --url/--token, CRONPLANE_URL/CRONPLANE_TOKEN, or ./.cronplane/dev.json.
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
  cron: { type: 'string' },
  command: { type: 'string' },
  tz: { type: 'string' },
  'timeout-sec': { type: 'string' },
  concurrency: { type: 'string' },
  label: { type: 'string', multiple: true },
  disabled: { type: 'boolean' },
  description: { type: 'string' },
  file: { type: 'string' },
  'if-match': { type: 'string' },
  run: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

interface Invocation {
  readonly api: ApiClient;
  readonly args: readonly string[];
  readonly values: Values;
  readonly out: (text: string) => void;
}

class UsageError extends Error {}

function exactlyOne(args: readonly string[], what: string): string {
  const [value, ...extra] = args;
  if (value === undefined || extra.length > 0) throw new UsageError(`expected ${what}`);
  return value;
}

function unexpectedResponse(): CronplaneError {
  return new CronplaneError('internal', 'the API answered with an unexpected shape');
}

const seg = encodeURIComponent;

function describeLastRun(view: JobView): string {
  const run = view.lastRun;
  return run ? `${run.status} ${formatTime(run.startTime || run.planTime)}` : '-';
}

async function list({ api, args, values, out }: Invocation): Promise<void> {
  if (args.length > 0) throw new UsageError('ls takes no arguments');
  const { body } = await api.request('GET', '/v1/jobs');
  const jobs = isRecord(body) ? toListOf(body.jobs, toJobView) : null;
  if (!jobs) throw unexpectedResponse();
  if (values.json) return out(JSON.stringify(body, null, 2) + '\n');
  out(
    formatTable(
      ['NAME', 'SCHEDULE', 'TZ', 'ENABLED', 'LAST RUN', 'COMMAND'],
      jobs.map((view) => [
        view.job.name,
        view.job.cronExpr,
        view.job.timezone,
        view.job.enabled ? 'yes' : 'no',
        describeLastRun(view),
        oneLine(view.job.command, 50),
      ]),
    ),
  );
}

async function get({ api, args, values, out }: Invocation): Promise<void> {
  const name = exactlyOne(args, 'a job name');
  const { body } = await api.request('GET', `/v1/jobs/${seg(name)}`);
  const view = toJobView(body);
  if (!view) throw unexpectedResponse();
  if (values.json) return out(JSON.stringify(body, null, 2) + '\n');
  const { job } = view;
  const labels = Object.entries(job.labels).map(([k, v]) => `${k}=${v}`);
  const rows: [string, string][] = [
    ['name', job.name],
    ['schedule', `${job.cronExpr} (${job.timezone})`],
    ['command', job.command],
    ['enabled', String(job.enabled)],
    ['concurrency', job.concurrency],
    ['timeout', job.timeoutSec === 0 ? 'none' : `${job.timeoutSec}s`],
    ['labels', labels.length > 0 ? labels.join(' ') : '-'],
    ['description', job.description || '-'],
    ['revision', view.revision],
    ['updated', job.updatedAt === 0 ? '-' : formatTime(job.updatedAt)],
    ['last run', view.lastRun ? `${describeLastRun(view)} (${view.lastRun.runId})` : '-'],
  ];
  out(rows.map(([key, value]) => `${`${key}:`.padEnd(13)}${value}`).join('\n') + '\n');
}

function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label must be key=value, got "${pair}"`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/** Numbers stay numbers; anything else goes as typed so the API names the field at fault. */
function integerOrText(text: string): number | string {
  return /^\d{1,15}$/.test(text) ? Number(text) : text;
}

const JOB_FLAGS = [
  'cron',
  'command',
  'tz',
  'timeout-sec',
  'concurrency',
  'label',
  'disabled',
  'description',
] as const;

function jobFromFile(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path === '-' ? 0 : path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!isRecord(value)) throw new UsageError(`${path} must hold a JSON object`);
  return value;
}

function jobFromFlags(values: Values): Record<string, unknown> {
  if (values.cron === undefined || values.command === undefined) {
    throw new UsageError('put needs --cron and --command (or --file)');
  }
  return {
    cronExpr: values.cron,
    command: values.command,
    ...(values.tz !== undefined ? { timezone: values.tz } : {}),
    ...(values['timeout-sec'] !== undefined
      ? { timeoutSec: integerOrText(values['timeout-sec']) }
      : {}),
    ...(values.concurrency !== undefined ? { concurrency: values.concurrency } : {}),
    ...(values.label !== undefined ? { labels: parseLabels(values.label) } : {}),
    ...(values.disabled ? { enabled: false } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
  };
}

async function put({ api, args, values, out }: Invocation): Promise<void> {
  if (args.length > 1) throw new UsageError('put takes at most one job name');
  let body: Record<string, unknown>;
  if (values.file !== undefined) {
    const mixed = JOB_FLAGS.filter((flag) => values[flag] !== undefined);
    if (mixed.length > 0)
      throw new UsageError(`--file cannot be combined with --${mixed.join(', --')}`);
    body = jobFromFile(values.file);
  } else {
    body = jobFromFlags(values);
  }
  const name = args[0] ?? (typeof body.name === 'string' ? body.name : undefined);
  if (name === undefined)
    throw new UsageError('put needs a job name (argument or "name" in the file)');
  const headers: Record<string, string> = values['if-match']
    ? { 'if-match': values['if-match'] }
    : {};
  const { status, body: answer } = await api.request('PUT', `/v1/jobs/${seg(name)}`, body, headers);
  const stored: VersionedJob | null = toVersionedJob(answer);
  if (!stored) throw unexpectedResponse();
  if (values.json) return out(JSON.stringify(answer, null, 2) + '\n');
  out(`${status === 201 ? 'created' : 'replaced'} job ${name} (revision ${stored.revision})\n`);
}

async function remove({ api, args, out }: Invocation): Promise<void> {
  const name = exactlyOne(args, 'a job name');
  await api.request('DELETE', `/v1/jobs/${seg(name)}`);
  out(`deleted job ${name}\n`);
}

async function kill({ api, args, values, out }: Invocation): Promise<void> {
  const name = exactlyOne(args, 'a job name');
  const { body } = await api.request(
    'POST',
    `/v1/jobs/${seg(name)}/kill`,
    values.run !== undefined ? { runId: values.run } : {},
  );
  if (values.json) return out(JSON.stringify(body, null, 2) + '\n');
  const which = values.run !== undefined ? `run ${values.run} of ${name}` : `the runs of ${name}`;
  out(`asked the agents to kill ${which}\n`);
}

async function runNow({ api, args, out, values }: Invocation): Promise<void> {
  const name = exactlyOne(args, 'a job name');
  const { body } = await api.request('POST', `/v1/jobs/${seg(name)}/run`, {});
  if (values.json) return out(JSON.stringify(body, null, 2) + '\n');
  const runId = isRecord(body) && typeof body.runId === 'string' ? body.runId : '?';
  out(`started run ${runId} of ${name}\n`);
}

/** What kind of run this was, when it is not a plain first scheduled attempt. */
function runKind(run: RunListItem): string {
  if (run.skip) return `${run.skip.count} tick(s) skipped`;
  const parts = [run.trigger === 'manual' ? `manual by ${run.triggeredBy ?? '?'}` : 'schedule'];
  if (run.attempt > 1) parts.push(`attempt ${run.attempt}`);
  return parts.join(', ');
}

function runRow(run: RunListItem): string[] {
  return [
    run.runId,
    formatTime(run.planTime),
    run.status,
    runKind(run),
    run.exitCode === null ? (run.signal ?? '-') : String(run.exitCode),
    formatDurationMs(Math.max(0, run.endTime - run.startTime)),
    run.agentId,
    oneLine(run.output, 60),
  ];
}

async function runs({ api, args, values, out }: Invocation): Promise<void> {
  const name = exactlyOne(args, 'a job name');
  const query = new URLSearchParams();
  if (values.limit !== undefined) query.set('limit', values.limit);
  if (values.before !== undefined) query.set('before', values.before);
  const suffix = query.size > 0 ? `?${query.toString()}` : '';
  const { body } = await api.request('GET', `/v1/jobs/${seg(name)}/runs${suffix}`);
  const page = toRunPage(body);
  if (!page) throw unexpectedResponse();
  if (values.json) return out(JSON.stringify(body, null, 2) + '\n');
  if (page.runs.length === 0) return out(`no runs of ${name}\n`);
  out(
    formatTable(
      ['RUN ID', 'TICK', 'STATUS', 'KIND', 'EXIT', 'TOOK', 'AGENT', 'OUTPUT'],
      page.runs.map(runRow),
    ),
  );
  if (page.nextCursor !== null) {
    out(`older runs: cronplane job runs ${name} --before ${page.nextCursor}\n`);
  }
}

async function runLog({ api, args, values, out }: Invocation): Promise<void> {
  const runId = exactlyOne(args, 'a run id');
  const { body } = await api.request('GET', `/v1/runs/${seg(runId)}`);
  const run = isRecord(body) ? toRunRecord(body.run) : null;
  if (!run) throw unexpectedResponse();
  if (values.json) return out(JSON.stringify(body, null, 2) + '\n');
  const exit = run.exitCode === null ? `signal ${run.signal ?? '-'}` : `exit ${run.exitCode}`;
  process.stderr.write(
    `run ${run.runId} of ${run.jobName} on ${run.host}: ${run.status}, ${exit}, ` +
      `started ${formatTime(run.startTime)}${run.err ? `, ${run.err}` : ''}\n`,
  );
  out(run.output);
  if (run.outputTruncated) process.stderr.write('(output was truncated by the agent)\n');
}

const SUBCOMMANDS: Record<string, (invocation: Invocation) => Promise<void>> = {
  ls: list,
  get,
  put,
  rm: remove,
  kill,
  run: runNow,
  runs,
  'run-log': runLog,
};

function report(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`cronplane job: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (error instanceof CronplaneError) {
    const details = error.details.map((d) => `  ${d.field || '(body)'}: ${d.message}\n`).join('');
    process.stderr.write(`cronplane job: ${error.message}\n${details}`);
    return error.code === 'invalid_config' ? 2 : 1;
  }
  throw error;
}

export async function run(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  try {
    if (subcommand === undefined || subcommand === '--help' || subcommand === 'help') {
      process.stdout.write(USAGE);
      return subcommand === undefined ? 2 : 0;
    }
    const handler = SUBCOMMANDS[subcommand];
    if (!handler) throw new UsageError(`unknown job command "${subcommand}"`);
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    if (parsed.values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const target = resolveTarget({ url: parsed.values.url, token: parsed.values.token });
    await handler({
      api: createApiClient(target),
      args: parsed.positionals,
      values: parsed.values,
      out: (text) => process.stdout.write(text),
    });
    return 0;
  } catch (error) {
    return report(error);
  }
}
