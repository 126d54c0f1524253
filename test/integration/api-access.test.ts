/**
 * Every route × every role: only the documented combinations succeed, and a refused request
 * changes nothing. admin: everything; viewer: reads; agent: none of these but /healthz (its
 * WebSocket endpoint's access is tested in live-health.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Role } from '../../core/api.ts';
import { RUN_LOG_COLLECTION } from '../../core/run-log.ts';
import { job, runRecord } from '../contract/records.ts';
import type { Stack } from '../stack/index.ts';
import { startStack } from '../stack/index.ts';
import type { ApiWorld, CallOptions } from './api-world.ts';
import { API_MODES, openApiWorld } from './api-world.ts';

type Access = 'public' | 'read' | 'write';

interface RouteCase {
  readonly method: string;
  readonly path: string;
  readonly access: Access;
  readonly body?: unknown;
}

const ROUTES: readonly RouteCase[] = [
  { method: 'GET', path: '/healthz', access: 'public' },
  { method: 'GET', path: '/openapi.json', access: 'read' },
  { method: 'GET', path: '/v1/jobs', access: 'read' },
  { method: 'GET', path: '/v1/jobs/matrix', access: 'read' },
  { method: 'GET', path: '/v1/jobs/matrix/runs', access: 'read' },
  { method: 'GET', path: '/v1/runs/matrix-run', access: 'read' },
  { method: 'GET', path: '/v1/workers', access: 'read' },
  { method: 'GET', path: '/v1/running', access: 'read' },
  { method: 'GET', path: '/v1/cron/next?expr=*+*+*+*+*', access: 'read' },
  {
    method: 'PUT',
    path: '/v1/jobs/matrix',
    access: 'write',
    body: { command: 'echo matrix', cronExpr: '0 * * * *' },
  },
  { method: 'POST', path: '/v1/jobs/matrix/kill', access: 'write' },
  { method: 'DELETE', path: '/v1/jobs/matrix', access: 'write' },
];

type Caller = Role | 'none' | 'unknown';
const CALLERS: readonly Caller[] = ['none', 'unknown', 'admin', 'viewer', 'agent'];

const ALLOWED: Readonly<Record<Access, readonly Caller[]>> = {
  public: CALLERS,
  read: ['admin', 'viewer'],
  write: ['admin'],
};

function as(caller: Caller): CallOptions['as'] {
  return caller === 'unknown' ? { token: 'not-a-configured-token-0123456789' } : caller;
}

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

for (const mode of API_MODES) {
  describe(`access control (${mode})`, () => {
    let api: ApiWorld;
    before(async () => {
      api = await openApiWorld(stack, mode);
      await api.db
        .collection(RUN_LOG_COLLECTION)
        .insertOne({ ...runRecord('matrix', 1_700_000_000_000, { runId: 'matrix-run' }) });
    });
    after(() => api.close());

    for (const route of ROUTES) {
      for (const caller of CALLERS) {
        const allowed = ALLOWED[route.access].includes(caller);
        const verdict = allowed
          ? 'succeeds'
          : caller === 'none' || caller === 'unknown'
            ? '401'
            : '403';
        it(`${route.method} ${route.path} as ${caller} → ${verdict}`, async () => {
          // Every case starts from an existing job, so a write that is allowed has work to do.
          await api.etcd.put(api.keys.job('matrix')).value(JSON.stringify(job('matrix')));
          const snapshot = await api.keyspace();
          const answer = await api.call(route.method, route.path, {
            as: as(caller),
            ...(route.body === undefined ? {} : { body: route.body }),
          });
          if (allowed) {
            assert.ok(
              answer.status >= 200 && answer.status < 300,
              `${answer.status} ${answer.text}`,
            );
            return;
          }
          assert.equal(answer.status, verdict === '401' ? 401 : 403, answer.text);
          assert.equal(
            (answer.json as { code?: string } | undefined)?.code,
            verdict === '401' ? 'unauthorized' : 'forbidden',
          );
          if (verdict === '401')
            assert.match(String(answer.headers['www-authenticate'] ?? ''), /^Bearer/);
          assert.deepEqual(await api.keyspace(), snapshot, 'a refused request changed etcd');
        });
      }
    }

    it('refuses non-bearer and malformed Authorization headers', async () => {
      for (const authorization of [
        'Basic YWRtaW46eA==',
        'Bearer',
        'Bearer  ',
        `Bearer ${'x'.repeat(5000)}`,
      ]) {
        const answer = await api.call('GET', '/v1/jobs', {
          as: 'none',
          headers: { authorization },
        });
        assert.equal(answer.status, 401, authorization.slice(0, 20));
      }
    });
  });
}
