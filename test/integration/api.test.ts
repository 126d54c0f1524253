/**
 * The job API on a real stack, against the Node control plane (direct and through the relay)
 * and the Worker under `wrangler dev` (through the relay).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RUN_OUTPUT_PREVIEW_CHARS } from '../../core/api.ts';
import { readKillRequest } from '../../core/coordination.ts';
import { RUN_LOG_COLLECTION } from '../../core/run-log.ts';
import { storeLastRuns } from '../contract/last-runs.ts';
import { openApiDocument } from '../../control-plane/openapi.ts';
import { lastRunOf, runRecord, running, worker } from '../contract/records.ts';
import type { Stack } from '../stack/index.ts';
import { startStack } from '../stack/index.ts';
import type { ApiAnswer, ApiWorld } from './api-world.ts';
import { API_MODES, openApiWorld } from './api-world.ts';

const T0 = 1_700_000_000_000;
const backup = { command: 'echo backup', cronExpr: '*/5 * * * *' };

function field(answer: ApiAnswer, name: string): unknown {
  const json = answer.json;
  return typeof json === 'object' && json !== null
    ? (json as Record<string, unknown>)[name]
    : undefined;
}

function assertError(answer: ApiAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(field(answer, 'code'), code, answer.text);
  assert.equal(typeof field(answer, 'error'), 'string');
  assert.ok(Array.isArray(field(answer, 'details')));
}

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

for (const mode of API_MODES) {
  describe(`the API (${mode})`, () => {
    let api: ApiWorld;
    before(async () => {
      api = await openApiWorld(stack, mode);
    });
    after(() => api.close());

    it('creates a job with 201, replaces it with 200, and reports revisions as ETags', async () => {
      const before = Date.now();
      const created = await api.call('PUT', '/v1/jobs/backup', { body: backup });
      assert.equal(created.status, 201, created.text);
      const revision = field(created, 'revision');
      assert.equal(typeof revision, 'string');
      assert.equal(created.headers.etag, `"${String(revision)}"`);
      const job = field(created, 'job') as Record<string, unknown>;
      assert.equal(job.name, 'backup');
      assert.equal(job.timezone, 'UTC');
      assert.ok((job.updatedAt as number) >= before);

      const replaced = await api.call('PUT', '/v1/jobs/backup', {
        body: { ...backup, name: 'backup', command: 'echo again' },
      });
      assert.equal(replaced.status, 200, replaced.text);
      const got = await api.call('GET', '/v1/jobs/backup');
      assert.equal(got.status, 200);
      assert.equal(got.headers.etag, replaced.headers.etag);
      assert.equal((field(got, 'job') as Record<string, unknown>).command, 'echo again');
      assert.equal(field(got, 'lastRun'), null);
    });

    it('replaces with If-Match only while the revision is current, else 412', async () => {
      const first = await api.call('PUT', '/v1/jobs/guarded', { body: backup });
      const etag = first.headers.etag ?? '';
      const ok = await api.call('PUT', '/v1/jobs/guarded', {
        body: { ...backup, command: 'echo 2' },
        headers: { 'if-match': etag },
      });
      assert.equal(ok.status, 200, ok.text);
      const before = await api.keyspace();
      const stale = await api.call('PUT', '/v1/jobs/guarded', {
        body: { ...backup, command: 'echo 3' },
        headers: { 'if-match': etag },
      });
      assertError(stale, 412, 'precondition_failed');
      assert.deepEqual(await api.keyspace(), before);
    });

    it('lists jobs with their last runs', async () => {
      await api.call('PUT', '/v1/jobs/listed', { body: backup });
      const summary = lastRunOf(runRecord('listed', T0));
      await storeLastRuns(api.db, [summary]);
      const answer = await api.call('GET', '/v1/jobs');
      assert.equal(answer.status, 200);
      const jobs = field(answer, 'jobs') as { job: { name: string }; lastRun: unknown }[];
      const listed = jobs.find((j) => j.job.name === 'listed');
      assert.deepEqual(listed?.lastRun, summary);
      assert.ok(jobs.every((j) => 'revision' in j));
    });

    it('deletes a job but not the tick it last ran, so a job recreated under its name cannot run that tick again; a second delete is 404', async () => {
      await api.call('PUT', '/v1/jobs/doomed', { body: backup });
      await api.etcd.put(api.keys.tick('doomed')).value('0001700000000000');
      const deleted = await api.call('DELETE', '/v1/jobs/doomed');
      assert.equal(deleted.status, 204);
      assert.equal(await api.etcd.get(api.keys.job('doomed')).string(), null);
      assert.equal(await api.etcd.get(api.keys.tick('doomed')).string(), '0001700000000000');
      assertError(await api.call('DELETE', '/v1/jobs/doomed'), 404, 'not_found');
      assertError(await api.call('GET', '/v1/jobs/doomed'), 404, 'not_found');
    });

    it('accepts a kill with 202 and records who asked; unknown jobs are 404', async () => {
      await api.call('PUT', '/v1/jobs/killable', { body: backup });
      const answer = await api.call('POST', '/v1/jobs/killable/kill');
      assert.equal(answer.status, 202, answer.text);
      const stored = readKillRequest(
        (await api.etcd.get(api.keys.killer('killable')).string()) ?? '',
      );
      assert.equal(stored?.requestedBy, 'admin');
      assert.ok(Math.abs((stored?.requestedAt ?? 0) - Date.now()) < 60_000);
      const one = await api.call('POST', '/v1/jobs/killable/kill', { body: { runId: 'run-7' } });
      assert.equal(one.status, 202);
      assertError(await api.call('POST', '/v1/jobs/nobody/kill'), 404, 'not_found');
      assert.equal(await api.etcd.get(api.keys.killer('nobody')).string(), null);
    });

    it('pages through runs with a cursor and serves one run with its full output', async () => {
      const long = 'y'.repeat(RUN_OUTPUT_PREVIEW_CHARS * 2);
      const records = Array.from({ length: 5 }, (_, i) =>
        runRecord('paged', T0 + i * 1000, i === 4 ? { output: long } : {}),
      );
      await api.db.collection(RUN_LOG_COLLECTION).insertMany(records.map((r) => ({ ...r })));
      const first = await api.call('GET', '/v1/jobs/paged/runs?limit=2');
      assert.equal(first.status, 200, first.text);
      const runs = field(first, 'runs') as {
        runId: string;
        output: string;
        outputClipped: boolean;
      }[];
      assert.deepEqual(
        runs.map((r) => r.runId),
        ['paged-1700000004000', 'paged-1700000003000'],
      );
      assert.equal(runs[0]?.outputClipped, true);
      const cursor = field(first, 'nextCursor');
      assert.equal(typeof cursor, 'string');
      const rest = await api.call(
        'GET',
        `/v1/jobs/paged/runs?limit=5&before=${encodeURIComponent(String(cursor))}`,
      );
      assert.deepEqual(
        (field(rest, 'runs') as { runId: string }[]).map((r) => r.runId),
        ['paged-1700000002000', 'paged-1700000001000', 'paged-1700000000000'],
      );
      assert.equal(field(rest, 'nextCursor'), null);

      const one = await api.call('GET', '/v1/runs/paged-1700000004000');
      assert.equal(one.status, 200);
      assert.equal((field(one, 'run') as { output: string }).output, long);
      assertError(await api.call('GET', '/v1/runs/nope'), 404, 'not_found');
      assertError(await api.call('GET', '/v1/jobs/paged/runs?limit=0'), 400, 'invalid_input');
      assertError(
        await api.call('GET', '/v1/jobs/paged/runs?before=garbage'),
        400,
        'invalid_input',
      );
    });

    it('lists registered agents and runs in flight', async () => {
      await api.etcd.put(api.keys.worker('w1')).value(JSON.stringify(worker('w1')));
      const entry = running('busy', 'run-1');
      await api.etcd.put(api.keys.running('busy', 'run-1')).value(JSON.stringify(entry));
      assert.deepEqual(field(await api.call('GET', '/v1/workers'), 'workers'), [
        { ...worker('w1'), registered: true, health: null },
      ]);
      assert.deepEqual(field(await api.call('GET', '/v1/running'), 'running'), [entry]);
    });

    it('previews fire times and rejects invalid expressions with the reason', async () => {
      const answer = await api.call(
        'GET',
        '/v1/cron/next?expr=0+12+*+*+*&tz=Europe/Berlin&count=3',
      );
      assert.equal(answer.status, 200, answer.text);
      const next = field(answer, 'next') as string[];
      assert.equal(next.length, 3);
      for (const iso of next) assert.match(iso, /T1[01]:00:00\.000Z$/);
      const invalid = await api.call('GET', '/v1/cron/next?expr=61+*+*+*+*');
      assertError(invalid, 400, 'invalid_cron');
      assert.equal((field(invalid, 'details') as { field: string }[])[0]?.field, 'expr');
      const zone = await api.call('GET', '/v1/cron/next?expr=*+*+*+*+*&tz=Mars/Olympus');
      assertError(zone, 400, 'invalid_cron');
      assertError(await api.call('GET', '/v1/cron/next'), 400, 'invalid_input');
    });

    it('answers /healthz without a token with every dependency reachable', async () => {
      const answer = await api.call('GET', '/healthz', { as: 'none' });
      assert.equal(answer.status, 200, answer.text);
      const checks = field(answer, 'checks') as Record<string, { ok: boolean }>;
      assert.equal(checks.etcd?.ok, true);
      assert.equal(checks.mongo?.ok, true);
      if (mode !== 'direct') assert.equal(checks.relay?.ok, true);
    });

    it('serves an OpenAPI document that describes every route', async () => {
      const answer = await api.call('GET', '/openapi.json', { as: 'viewer' });
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json, JSON.parse(JSON.stringify(openApiDocument)));
      const paths = Object.keys(field(answer, 'paths') as object).sort();
      assert.deepEqual(paths, [
        '/healthz',
        '/openapi.json',
        '/v1/agents/bootstrap',
        '/v1/agents/connect',
        '/v1/cron/next',
        '/v1/health/stream',
        '/v1/jobs',
        '/v1/jobs/{name}',
        '/v1/jobs/{name}/kill',
        '/v1/jobs/{name}/run',
        '/v1/jobs/{name}/runs',
        '/v1/running',
        '/v1/runs/{runId}',
        '/v1/whoami',
        '/v1/workers',
      ]);
    });

    it('answers unknown routes with a JSON 404', async () => {
      assertError(await api.call('GET', '/v1/nothing-here'), 404, 'not_found');
    });
  });
}
