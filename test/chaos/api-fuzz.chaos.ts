/**
 * Chaos 6: property-based fuzzing of the public API (both data modes: direct and through the
 * relay) and of the relay's signed surface, with random and malformed input (fast-check).
 * For every request:
 *   - never a 5xx (the stack is healthy, so nothing may be a server error);
 *   - an error is JSON `{error, …}`;
 *   - a refused request changes nothing in etcd (no partial write);
 *   - every key in etcd is one of the documented layout's, under the world's prefix, and every
 *     stored job reads back as a valid job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Etcd3 } from 'etcd3';
import { createRelaySigner } from '../../control-plane/adapters/relay-client/relay-signer.ts';
import { readStoredJob } from '../../core/job.ts';
import { createKeyLayout, type KeyLayout } from '../../core/keys.ts';
import { RELAY_PATH_PREFIX } from '../../core/relay-wire.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import {
  openApiWorld,
  type ApiMode,
  type ApiAnswer,
  type ApiWorld,
} from '../integration/api-world.ts';
import { startStack, uniqueDatabase, uniquePrefix, type Stack } from '../stack/index.ts';
import { report, summarize } from './lib/summary.ts';
import { QUICK } from './lib/workload.ts';

const API_RUNS = QUICK ? 1000 : 3000;
const RELAY_RUNS = QUICK ? 1000 : 3000;
const RELAY_SECRET = 'chaos-fuzz-relay-secret-0123456789';
/**
 * The Worker under `wrangler dev` is opt-in (CHAOS_FUZZ_WORKER=1): under this fuzz its dev
 * proxy answered a write that followed a GET-with-body with its own 503 "Your worker restarted
 * mid-request", which a standalone wrangler dev did not reproduce (see the issue note).
 */
const FUZZ_MODES: readonly ApiMode[] =
  process.env.CHAOS_FUZZ_WORKER === '1' ? ['direct', 'relay', 'worker'] : ['direct', 'relay'];

// ---- generators -------------------------------------------------------------------------------

const validName = fc
  .stringMatching(/^[A-Za-z0-9._-]{1,64}$/)
  .filter((n) => n !== '.' && n !== '..');
const hostileName = fc.constantFrom(
  '.',
  '..',
  '',
  'a'.repeat(65),
  '__proto__',
  'constructor',
  'jobs',
  'a b',
  'a/b',
  '../x',
  'a\u0000b',
  '\u202e',
  'é',
  '%',
  '%2F',
);
const anyName = fc.oneof(validName, hostileName, fc.string({ maxLength: 80 }));
/** encodeURIComponent, which throws on lone surrogates: those are sent as U+FFFD. */
function encode(text: string): string {
  return encodeURIComponent(
    text.replace(
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      '\uFFFD',
    ),
  );
}
/** A path segment as a client might send it: encoded, or raw and hostile. */
const segment = fc.oneof(
  validName,
  anyName.map(encode),
  fc.constantFrom('..%2F..%2Fx', '%2e%2e', 'a%00b', '%ZZ', '..', '.', 'a;b', 'x?y=1', '%252F'),
);
const cronExpr = fc.oneof(
  fc.constantFrom(
    '* * * * *',
    '*/5 * * * * *',
    '0 0 12 * * MON 2027',
    '@hourly',
    '0 12 * * * 2030',
    '61 * * * *',
    '* * * *',
    '',
    '@never',
    '0 0 30 2 *',
    '0 0 0 1 1 * 1969',
    'L * * * *',
    '5#9 * * * *',
  ),
  fc.string({ maxLength: 40 }),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(1e308, -1, 2 ** 53, '9'.repeat(30)),
);
const labels = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 70 }), fc.string({ maxLength: 70 }), { maxKeys: 20 }),
  scalar,
);
/** A job body: mostly plausible, each field possibly wrong, sometimes with extra fields. */
const jobBody = fc.record(
  {
    name: fc.oneof(validName, anyName, scalar),
    command: fc.oneof(fc.constant('echo ok'), fc.string({ maxLength: 100 }), scalar),
    cronExpr: fc.oneof(cronExpr, scalar),
    timezone: fc.oneof(
      fc.constantFrom('UTC', 'Europe/Berlin', 'Mars/Olympus', 'utc', '../../etc/passwd'),
      scalar,
    ),
    enabled: fc.oneof(fc.boolean(), scalar),
    timeoutSec: fc.oneof(fc.nat(1_000_000), scalar),
    concurrency: fc.oneof(fc.constantFrom('forbid', 'allow', 'replace'), scalar),
    labels,
    description: fc.oneof(fc.string({ maxLength: 50 }), scalar),
    retries: fc.oneof(fc.nat(20), scalar),
    updatedAt: scalar,
    __proto__: fc.constant({ polluted: true }),
    extra: scalar,
  },
  { requiredKeys: [] },
);
/** A valid job with at most one field set to something random: reaches deeper validation. */
const nearlyValidJob = fc
  .tuple(
    fc.record({
      command: fc.constantFrom('echo ok', 'sleep 1; date', 'printf "%s" "$CRONPLANE_JOB"'),
      cronExpr: fc.constantFrom('* * * * *', '*/5 * * * * *', '@hourly', '0 0 12 * * MON 2027'),
      timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
      enabled: fc.boolean(),
      timeoutSec: fc.nat(3600),
      concurrency: fc.constantFrom('forbid', 'allow'),
      labels: fc.dictionary(
        validName.map((k) => k.slice(0, 60)),
        validName.map((v) => v.slice(0, 60)),
        {
          maxKeys: 3,
        },
      ),
      description: fc.string({ maxLength: 40 }),
    }),
    fc.option(
      fc.tuple(
        fc.constantFrom(
          'command',
          'cronExpr',
          'timezone',
          'enabled',
          'timeoutSec',
          'concurrency',
          'labels',
          'description',
          'name',
          'retries',
          'notify',
          'nope',
        ),
        fc.oneof(scalar, labels, fc.jsonValue({ maxDepth: 2 })),
      ),
      { freq: 2 },
    ),
  )
  .map(([job, mutation]) => (mutation ? { ...job, [mutation[0]]: mutation[1] } : job));
const jsonBody = fc.oneof(
  { weight: 4, arbitrary: nearlyValidJob.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: jobBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{',
      '',
      'null',
      '[]',
      '"x"',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"x":1}}}',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      '{"command":"echo \\u0000","cronExpr":"* * * * *"}',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);
const queryValue = fc.oneof(
  fc.integer({ min: -5, max: 200 }).map(String),
  fc.constantFrom('', '1e3', '0x10', '99999999999', '%205', 'NaN', '%00', 'eyJ4IjoxfQ'),
  cronExpr.map(encode),
  fc.string({ maxLength: 20 }).map(encode),
);
const query = fc
  .array(
    fc.tuple(fc.constantFrom('limit', 'before', 'expr', 'tz', 'count', 'x', 'limit'), queryValue),
    { maxLength: 3 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
/** A handful of names, so that requests meet each other's jobs (replace, delete, kill). */
const knownName = fc.constantFrom('alpha', 'beta', 'gamma.1', 'delta_2', 'e-3');
const apiPath = fc.oneof(
  fc.constant('/v1/jobs'),
  { weight: 6, arbitrary: knownName.map((s) => `/v1/jobs/${s}`) },
  { weight: 2, arbitrary: knownName.map((s) => `/v1/jobs/${s}/kill`) },
  segment.map((s) => `/v1/jobs/${s}`),
  segment.map((s) => `/v1/jobs/${s}/kill`),
  fc.tuple(segment, query).map(([s, q]) => `/v1/jobs/${s}/runs${q}`),
  segment.map((s) => `/v1/runs/${s}`),
  query.map((q) => `/v1/cron/next${q}`),
  fc.constantFrom('/v1/workers', '/v1/running', '/healthz', '/openapi.json', '/v1', '/v1/'),
  fc.tuple(segment, segment).map(([a, b]) => `/v1/${a}/${b}`),
);
const anyRequest = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'PUT', 'PUT', 'PUT', 'POST', 'POST', 'DELETE', 'PATCH'),
  path: apiPath,
  body: fc.option(jsonBody, { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', ''),
  ifMatch: fc.option(
    fc.oneof(fc.nat().map(String), fc.constantFrom('"1"', 'W/"2"', '*', '-1', '')),
    { nil: undefined, freq: 4 },
  ),
  as: fc.oneof(
    { weight: 8, arbitrary: fc.constant('admin' as const) },
    { weight: 1, arbitrary: fc.constantFrom('viewer' as const, 'agent' as const, 'none' as const) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((token) => ({ token })) },
  ),
});
/** Writes that mostly succeed, so later requests meet stored jobs, revisions and kill keys. */
const writeRequest = fc
  .tuple(
    knownName,
    fc.oneof(
      {
        weight: 5,
        arbitrary: nearlyValidJob.map((b) => ['PUT', '', JSON.stringify(b)] as const),
      },
      { weight: 2, arbitrary: fc.constant(['DELETE', '', undefined] as const) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom('', '{}', '{"runId":"r-1"}', '{"runId":"../x"}', '{"runId":7}')
          .map((b) => ['POST', '/kill', b] as const),
      },
    ),
    fc.option(fc.nat(500).map(String), { nil: undefined, freq: 3 }),
  )
  .map(([name, [method, suffix, body], ifMatch]) => ({
    method,
    path: `/v1/jobs/${name}${suffix}`,
    body,
    contentType: 'application/json',
    ifMatch,
    as: 'admin' as const,
  }));
const apiRequest = fc.oneof(
  { weight: 3, arbitrary: writeRequest },
  { weight: 7, arbitrary: anyRequest },
);
type ApiRequest = typeof apiRequest extends fc.Arbitrary<infer T> ? T : never;

const relayOperations = [
  'jobs.list',
  'jobs.get',
  'jobs.put',
  'jobs.delete',
  'jobs.kill',
  'running.list',
  'workers.list',
  'runs.ofJob',
  'runs.get',
  'runs.last',
  'health',
] as const;
const relayBody = fc.oneof(
  { weight: 2, arbitrary: fc.record({ name: anyName }, { requiredKeys: [] }) },
  {
    weight: 3,
    arbitrary: fc.record(
      { job: jobBody, ifMatch: fc.oneof(fc.nat().map(String), scalar) },
      { requiredKeys: ['job'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        name: anyName,
        request: fc.oneof(
          fc.record(
            {
              requestedAt: fc.oneof(fc.nat(), scalar),
              runId: fc.oneof(validName, anyName, scalar),
              requestedBy: scalar,
            },
            { requiredKeys: [] },
          ),
          scalar,
        ),
      },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { name: anyName, limit: scalar, before: fc.oneof(fc.string(), scalar) },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ runId: fc.oneof(anyName, scalar) }) },
  { weight: 1, arbitrary: fc.record({ names: fc.oneof(fc.array(anyName), scalar) }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
const relayRequest = fc.record({
  operation: fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...relayOperations) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 20 }), hostileName) },
  ),
  body: fc.oneof(
    { weight: 9, arbitrary: relayBody.map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  ),
  /** Sometimes break the signature: such a request must be refused with 401. */
  tamper: fc.oneof(
    { weight: 9, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('signature', 'body', 'unsigned') },
  ),
});

// ---- invariants -------------------------------------------------------------------------------

interface Stats {
  cases: number;
  byStatus: Map<number, number>;
  failures: string[];
}

function newStats(): Stats {
  return { cases: 0, byStatus: new Map(), failures: [] };
}

/** Key → `modRevision:value` for everything in etcd (the stack is this file's own). */
async function snapshot(etcd: Etcd3): Promise<Map<string, string>> {
  const { kvs } = await etcd.getAll().exec();
  return new Map(kvs.map((kv) => [kv.key.toString(), `${kv.mod_revision}:${kv.value.toString()}`]));
}

/** What is wrong with the whole keyspace, or [] when every key follows the layout. */
/** Every prefix this file has given a world: the stack is this file's own, so etcd holds nothing else. */
const layouts: KeyLayout[] = [];

function layoutProblems(all: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [key, stamped] of all) {
    const parsed = layouts.map((layout) => layout.parse(key)).find((p) => p !== null);
    if (!parsed) {
      problems.push(`key outside the layout: ${JSON.stringify(key)}`);
      continue;
    }
    if (parsed.kind === 'jobs') {
      const value = stamped.slice(stamped.indexOf(':') + 1);
      const read = readStoredJob(value);
      if (!read.ok || read.job.name !== parsed.name)
        problems.push(`stored job ${parsed.name} does not read back: ${value.slice(0, 200)}`);
    }
  }
  return problems;
}

/**
 * Changes between two snapshots, ignoring kill requests (they live on a short lease and may
 * expire between the two).
 */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (layouts.some((layout) => layout.parse(key)?.kind === 'killer')) continue;
    if (before.get(key) !== after.get(key)) changed.push(key);
  }
  return changed;
}

function checkAnswer(
  status: number,
  json: unknown,
  stats: Stats,
  describe: () => string,
): string | null {
  stats.cases++;
  stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
  if (status >= 500) return `${status} for ${describe()}`;
  if (status >= 400) {
    const error = (json as { error?: unknown } | undefined)?.error;
    if (typeof error !== 'string')
      return `error ${status} without a JSON {error} for ${describe()}`;
  }
  return null;
}

async function apiCase(
  world: ApiWorld,
  etcd: Etcd3,
  keys: KeyLayout,
  request: ApiRequest,
  stats: Stats,
): Promise<void> {
  const before = await snapshot(etcd);
  const answer: ApiAnswer = await world.call(request.method, request.path, {
    as: request.as,
    ...(request.body === undefined ? {} : { rawBody: request.body }),
    headers: {
      ...(request.contentType ? { 'content-type': request.contentType } : {}),
      ...(request.ifMatch !== undefined ? { 'if-match': request.ifMatch } : {}),
    },
  });
  const after = await snapshot(etcd);
  const describe = (): string =>
    `${request.method} ${request.path} body ${request.body?.slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 300)}`;
  if (process.env.CHAOS_FUZZ_LOG === '1') process.stderr.write(`fuzz: ${describe()}\n`);
  const problem = checkAnswer(answer.status, answer.json, stats, describe);
  if (problem) throw new Error(problem);
  const changed = changes(before, after);
  if (answer.status >= 400 && changed.length > 0)
    throw new Error(`refused request changed ${changed.join(', ')}: ${describe()}`);
  // A write touches the keys of the job it names, and nothing else.
  // The server resolves dot-segments (`/v1/jobs/./kill` is job "kill"), as URLs do.
  const named = /^\/v1\/jobs\/([^/?]+)/.exec(new URL(request.path, 'http://x').pathname)?.[1];
  const strays = changed.filter((key) => {
    const parsed = keys.parse(key);
    return !parsed || !('name' in parsed) || parsed.name !== named;
  });
  if (answer.status < 400 && strays.length > 0)
    throw new Error(`a write for ${named} changed ${strays.join(', ')}: ${describe()}`);
  const problems = layoutProblems(after);
  if (problems.length > 0) throw new Error(`${problems.join('; ')} after ${describe()}`);
}

// ---- the suite --------------------------------------------------------------------------------

describe('chaos: fuzzing the public API and the relay', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  const results: { name: string; stats: Stats; ms: number }[] = [];
  after(() => {
    const failures = results.flatMap((r) => r.stats.failures.map((f) => `${r.name}: ${f}`));
    const statuses = (stats: Stats): string =>
      [...stats.byStatus]
        .sort(([a], [b]) => a - b)
        .map(([status, n]) => `${status}×${n}`)
        .join(' ');
    report(
      summarize('6 API + relay fuzzing', [], {
        timings: Object.fromEntries(results.map((r) => [r.name, r.ms])),
        notes: results.map((r) => `${r.name}: ${r.stats.cases} cases, ${statuses(r.stats)}`),
        violations: failures,
      }),
    );
  });

  for (const mode of FUZZ_MODES) {
    it(
      `public API (${mode}): no 5xx, JSON errors, no partial write, only documented keys`,
      {
        timeout: 300_000,
      },
      async () => {
        const world = await openApiWorld(stack, mode);
        const etcd = new Etcd3({ hosts: stack.etcd.endpoints });
        const keys = createKeyLayout(world.keys.prefix);
        layouts.push(keys);
        const stats = newStats();
        const startedAt = performance.now();
        try {
          await fc.assert(
            fc.asyncProperty(apiRequest, (request) => apiCase(world, etcd, keys, request, stats)),
            { numRuns: API_RUNS, endOnFailure: true },
          );
        } catch (error) {
          stats.failures.push(firstLine(error));
          throw error;
        } finally {
          results.push({ name: `API ${mode}`, stats, ms: performance.now() - startedAt });
          etcd.close();
          await world.close();
        }
      },
    );
  }

  it(
    'relay: signed garbage is refused with 4xx and writes nothing; unsigned is 401',
    {
      timeout: 300_000,
    },
    async () => {
      const prefix = uniquePrefix();
      const keys = createKeyLayout(prefix);
      layouts.push(keys);
      const relay: RunningRelay = await startRelay({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
        database: uniqueDatabase(),
        prefix,
        secret: RELAY_SECRET,
        port: 0,
        host: '127.0.0.1',
      });
      const signer = createRelaySigner(RELAY_SECRET);
      const etcd = new Etcd3({ hosts: stack.etcd.endpoints });
      const stats = newStats();
      const startedAt = performance.now();
      try {
        await fc.assert(
          fc.asyncProperty(relayRequest, async ({ operation, body, tamper }) => {
            const path = `${RELAY_PATH_PREFIX}${encode(operation)}`;
            const bytes = new TextEncoder().encode(body);
            const headers = tamper === 'unsigned' ? {} : await signer.sign('POST', path, bytes);
            if (tamper === 'signature') headers['x-cronplane-signature'] = '0'.repeat(64);
            const sent = tamper === 'body' ? `${body} ` : body;
            const before = await snapshot(etcd);
            const response = await fetch(relay.url + path, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              body: sent,
            });
            const text = await response.text();
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            const after = await snapshot(etcd);
            const describe = (): string =>
              `${operation} ${tamper ?? 'signed'} ${body.slice(0, 300)} → ${response.status} ${text.slice(0, 300)}`;
            const problem = checkAnswer(response.status, json, stats, describe);
            if (problem) throw new Error(problem);
            // An unknown operation may be 404 before any signature check; a known one is 401.
            const known = (relayOperations as readonly string[]).includes(operation);
            if (tamper !== null && response.status !== 401 && (known || response.status !== 404))
              throw new Error(`a ${tamper} request was not refused with 401: ${describe()}`);
            const changed = changes(before, after);
            if (response.status >= 400 && changed.length > 0)
              throw new Error(`refused request changed ${changed.join(', ')}: ${describe()}`);
            const problems = layoutProblems(after);
            if (problems.length > 0) throw new Error(`${problems.join('; ')} after ${describe()}`);
          }),
          { numRuns: RELAY_RUNS, endOnFailure: true },
        );
      } catch (error) {
        stats.failures.push(firstLine(error));
        throw error;
      } finally {
        results.push({ name: 'relay', stats, ms: performance.now() - startedAt });
        etcd.close();
        await relay.stop();
      }
      assert.ok(stats.cases >= RELAY_RUNS);
    },
  );
});

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const counterexample = /Counterexample: (.*)/.exec(text)?.[1];
  const cause = /Got (?:error|an error): (.*)/.exec(text)?.[1] ?? text.split('\n')[0] ?? text;
  return counterexample ? `${cause} (counterexample ${counterexample.slice(0, 400)})` : cause;
}
