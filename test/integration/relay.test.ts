/**
 * The relay's signed surface: authentic requests are carried out; unsigned, forged, tampered,
 * stale and replayed ones get 401 and change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { createRelayClient } from '../../control-plane/adapters/relay-client/relay-client.ts';
import { createRelayPorts } from '../../control-plane/adapters/relay-client/relay-ports.ts';
import type { RelaySigner } from '../../control-plane/adapters/relay-client/relay-signer.ts';
import { createRelaySigner } from '../../control-plane/adapters/relay-client/relay-signer.ts';
import { CronplaneError } from '../../core/errors.ts';
import type { KeyLayout } from '../../core/keys.ts';
import { createKeyLayout } from '../../core/keys.ts';
import { RELAY_PATH_PREFIX } from '../../core/relay-wire.ts';
import type { RunningRelay } from '../../relay/server.ts';
import { startRelay } from '../../relay/server.ts';
import { job } from '../contract/records.ts';
import type { Stack } from '../stack/index.ts';
import { startStack, uniqueDatabase, uniquePrefix } from '../stack/index.ts';

const SECRET = 'relay-test-secret-0123456789abcdef';
const MINUTE_MS = 60_000;

interface Sent {
  readonly status: number;
  readonly json: unknown;
}

async function post(
  relay: RunningRelay,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<Sent> {
  const response = await fetch(relay.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function signed(
  signer: RelaySigner,
  path: string,
  body: string,
): Promise<Record<string, string>> {
  return signer.sign('POST', path, new TextEncoder().encode(body));
}

function codeOf(sent: Sent): unknown {
  return typeof sent.json === 'object' && sent.json !== null
    ? (sent.json as Record<string, unknown>).code
    : undefined;
}

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

describe('the relay', () => {
  let relay: RunningRelay;
  let etcd: Etcd3;
  let keys: KeyLayout;
  const putPath = `${RELAY_PATH_PREFIX}jobs.put`;
  const putBody = JSON.stringify({ job: job('relayed') });

  /** Key → mod revision and value: equal snapshots mean nothing was written. */
  async function keyspace(): Promise<Record<string, string>> {
    const { kvs } = await etcd.getAll().prefix(keys.prefix).exec();
    return Object.fromEntries(
      kvs.map((kv) => [kv.key.toString(), `${kv.mod_revision}:${kv.value.toString()}`]),
    );
  }

  async function assertRefused(send: () => Promise<Sent>, status = 401): Promise<void> {
    const snapshot = await keyspace();
    const sent = await send();
    assert.equal(sent.status, status, JSON.stringify(sent.json));
    assert.equal(codeOf(sent), status === 401 ? 'unauthorized' : codeOf(sent));
    assert.deepEqual(await keyspace(), snapshot, 'a refused request changed etcd');
  }

  before(async () => {
    const prefix = uniquePrefix();
    keys = createKeyLayout(prefix);
    relay = await startRelay({
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database: uniqueDatabase(),
      prefix,
      secret: SECRET,
      port: 0,
      host: '127.0.0.1',
    });
    etcd = new Etcd3({ hosts: stack.etcd.endpoints });
  });
  after(async () => {
    etcd.close();
    await relay.stop();
  });
  beforeEach(async () => {
    // A job already stored, so a request that slipped through would visibly rewrite it.
    await etcd
      .put(keys.job('relayed'))
      .value(JSON.stringify(job('relayed', { command: 'echo old' })));
  });

  it('carries out a signed request', async () => {
    const sent = await post(
      relay,
      putPath,
      putBody,
      await signed(createRelaySigner(SECRET), putPath, putBody),
    );
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    assert.deepEqual(
      JSON.parse((await etcd.get(keys.job('relayed')).string()) ?? ''),
      job('relayed'),
    );
  });

  it('refuses an unsigned request', () => assertRefused(() => post(relay, putPath, putBody, {})));

  it('refuses a request signed with another secret', () =>
    assertRefused(async () =>
      post(
        relay,
        putPath,
        putBody,
        await signed(createRelaySigner(`${SECRET}-other`), putPath, putBody),
      ),
    ));

  it('refuses a request whose body changed after signing', () =>
    assertRefused(async () => {
      const headers = await signed(createRelaySigner(SECRET), putPath, putBody);
      return post(
        relay,
        putPath,
        JSON.stringify({ job: job('relayed', { command: 'rm -rf /' }) }),
        headers,
      );
    }));

  it('refuses a request sent to another operation than the one signed', () =>
    assertRefused(async () => {
      const headers = await signed(
        createRelaySigner(SECRET),
        `${RELAY_PATH_PREFIX}jobs.get`,
        putBody,
      );
      return post(relay, putPath, putBody, headers);
    }));

  it('refuses malformed signature headers', () =>
    assertRefused(async () => {
      const headers = await signed(createRelaySigner(SECRET), putPath, putBody);
      return post(relay, putPath, putBody, { ...headers, 'x-cronplane-nonce': 'short' });
    }));

  for (const [what, offsetMs] of [
    ['six minutes old', -6 * MINUTE_MS],
    ['six minutes in the future', 6 * MINUTE_MS],
  ] as const) {
    it(`refuses a request ${what}`, () =>
      assertRefused(async () => {
        const signer = createRelaySigner(SECRET, { now: () => Date.now() + offsetMs });
        return post(relay, putPath, putBody, await signed(signer, putPath, putBody));
      }));
  }

  it('accepts a request four minutes old (clock skew within the window)', async () => {
    const signer = createRelaySigner(SECRET, { now: () => Date.now() - 4 * MINUTE_MS });
    const sent = await post(relay, putPath, putBody, await signed(signer, putPath, putBody));
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
  });

  it('refuses a replayed request', async () => {
    const headers = await signed(createRelaySigner(SECRET), putPath, putBody);
    assert.equal((await post(relay, putPath, putBody, headers)).status, 200);
    await assertRefused(() => post(relay, putPath, putBody, headers));
  });

  it('refuses an authentic request with an invalid job with every field error', async () => {
    const body = JSON.stringify({ job: { name: 'relayed', command: '', cronExpr: 'nope' } });
    const snapshot = await keyspace();
    const sent = await post(
      relay,
      putPath,
      body,
      await signed(createRelaySigner(SECRET), putPath, body),
    );
    assert.equal(sent.status, 400);
    const fields = (sent.json as { details: { field: string }[] }).details.map((d) => d.field);
    assert.deepEqual(fields.sort(), ['job.command', 'job.cronExpr']);
    assert.deepEqual(await keyspace(), snapshot);
  });

  it('offers no operation beyond the port (no raw key/value access)', async () => {
    for (const op of ['kv.put', 'jobs', '..%2Fjobs.put', 'constructor']) {
      const path = RELAY_PATH_PREFIX + op;
      const body = JSON.stringify({ key: keys.job('x'), value: '{}' });
      await assertRefused(
        async () => post(relay, path, body, await signed(createRelaySigner(SECRET), path, body)),
        404,
      );
    }
  });

  it('refuses an oversized body before reading it', () =>
    assertRefused(() => post(relay, putPath, 'x'.repeat(2 * 1024 * 1024), {}), 413));

  it('sends errors across the hop as {error, code, details}', async () => {
    const path = `${RELAY_PATH_PREFIX}jobs.delete`;
    const body = JSON.stringify({ name: 'ghost' });
    const sent = await post(relay, path, body, await signed(createRelaySigner(SECRET), path, body));
    assert.equal(sent.status, 404);
    assert.deepEqual(sent.json, {
      error: 'job "ghost" does not exist',
      code: 'not_found',
      details: [],
    });
  });

  it('answers GET /healthz without a signature', async () => {
    const response = await fetch(`${relay.url}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { ok: boolean }).ok, true);
  });

  it('makes a control plane with the wrong secret report the relay unavailable, not 401', async () => {
    const ports = createRelayPorts(
      createRelayClient({ url: relay.url, secret: `${SECRET}-wrong` }),
    );
    await assert.rejects(ports.jobs.list(), (error: unknown) => {
      assert.ok(error instanceof CronplaneError);
      assert.equal(error.code, 'unavailable');
      return true;
    });
    const health = await ports.health.check();
    assert.equal(health.ok, false);
    assert.equal(health.checks.relay?.ok, false);
  });
});
