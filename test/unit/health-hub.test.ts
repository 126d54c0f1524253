/** The health hub's agent table, session rules and the /v1/workers merge, on a fake clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Heartbeat } from '../../core/health.ts';
import { OFFLINE_RETENTION_MS, STALE_AFTER_MS } from '../../core/health.ts';
import { receiveAgentMessage } from '../../control-plane/health/agent-session.ts';
import { createAgentTable } from '../../control-plane/health/agent-table.ts';
import {
  bearerFromSubprotocols,
  offeredSubprotocols,
  selectSubprotocol,
} from '../../control-plane/subprotocols.ts';
import { mergeWorkers } from '../../control-plane/routes/workers.ts';
import { worker } from '../contract/records.ts';

const T0 = 1_700_000_000_000;
const hello = (agentId: string) => ({
  agentId,
  host: `${agentId}.example`,
  version: '0.1.0',
  labels: {},
  startedAt: T0 - 1000,
});
const heartbeat: Heartbeat = {
  at: T0,
  running: [],
  load: [0.1, 0.2, 0.3],
  rssBytes: 1024,
  logBacklog: 0,
  spillBytes: 0,
  spillError: null,
  session: 'live',
  jobsScheduled: 2,
};

describe('the agent table', () => {
  it('turns an agent stale once it is silent for more than STALE_AFTER_MS', () => {
    const table = createAgentTable();
    table.hello('s1', hello('a'), T0);
    assert.equal(table.nextSweepAtMs(), T0 + STALE_AFTER_MS + 1);
    assert.deepEqual(table.sweep(T0 + STALE_AFTER_MS).turnedStale, []);
    const { turnedStale } = table.sweep(T0 + STALE_AFTER_MS + 1);
    assert.deepEqual(
      turnedStale.map((view) => [view.agentId, view.status]),
      [['a', 'stale']],
    );
    assert.deepEqual(table.sweep(T0 + STALE_AFTER_MS + 2).turnedStale, [], 'reported once');
    assert.equal(table.heartbeat('s1', 'a', heartbeat, T0 + 9000)?.status, 'online');
  });

  it('keeps the newest session: the old one can neither beat nor close the agent', () => {
    const table = createAgentTable();
    table.hello('old', hello('a'), T0);
    table.hello('new', hello('a'), T0 + 10);
    assert.equal(table.heartbeat('old', 'a', heartbeat, T0 + 20), null);
    assert.equal(table.close('old', 'a', T0 + 30), null);
    assert.equal(table.get('a')?.status, 'online');
    assert.equal(table.close('new', 'a', T0 + 40)?.status, 'offline');
  });

  it('forgets an offline agent OFFLINE_RETENTION_MS after it went offline', () => {
    const table = createAgentTable();
    table.hello('s1', hello('a'), T0);
    table.close('s1', 'a', T0 + 5);
    assert.equal(table.nextSweepAtMs(), T0 + 5 + OFFLINE_RETENTION_MS);
    assert.deepEqual(table.sweep(T0 + 4 + OFFLINE_RETENTION_MS).forgotten, []);
    assert.deepEqual(table.sweep(T0 + 5 + OFFLINE_RETENTION_MS).forgotten, ['a']);
    assert.deepEqual(table.list(), []);
    assert.equal(table.nextSweepAtMs(), null);
  });
});

describe('an agent session', () => {
  it('requires hello first, validates frames, and reports status changes', () => {
    const table = createAgentTable();
    const session = { sessionId: 's1', agentId: null };
    const frame = (value: object) => JSON.stringify(value);
    assert.equal(
      receiveAgentMessage(table, session, frame({ type: 'heartbeat', ...heartbeat }), T0).kind,
      'violation',
    );
    const hi = receiveAgentMessage(table, session, frame({ type: 'hello', ...hello('a') }), T0);
    assert.equal(hi.kind === 'changed' && hi.statusChanged, true);
    const beat = receiveAgentMessage(
      table,
      session,
      frame({ type: 'heartbeat', ...heartbeat }),
      T0,
    );
    assert.equal(beat.kind === 'changed' && beat.statusChanged, false);
    assert.ok(beat.kind === 'changed' && beat.view.heartbeat && !('type' in beat.view.heartbeat));
    const other = receiveAgentMessage(table, session, frame({ type: 'hello', ...hello('b') }), T0);
    assert.deepEqual(other, { kind: 'violation', code: 1008, reason: 'hello for another agent' });
    assert.equal(receiveAgentMessage(table, session, '{"type":"bye"}', T0).kind, 'violation');
    const bye = receiveAgentMessage(table, session, frame({ type: 'bye', reason: 'stop' }), T0);
    assert.equal(bye.kind === 'changed' && bye.view.status, 'offline');
  });
});

describe('viewer subprotocols', () => {
  it('reads the token from bearer.<token> and answers only cronplane.health.v1', () => {
    const offered = offeredSubprotocols('cronplane.health.v1, bearer.abc-123_XYZ');
    assert.equal(bearerFromSubprotocols(offered), 'abc-123_XYZ');
    assert.equal(selectSubprotocol(offered), 'cronplane.health.v1');
    assert.equal(selectSubprotocol(offeredSubprotocols('bearer.abc')), undefined);
  });
});

describe('GET /v1/workers', () => {
  it('merges registrations with health and lists hub-only agents unregistered', () => {
    const table = createAgentTable();
    const live = table.hello('s1', hello('w1'), T0);
    const orphan = table.hello('s2', hello('w0'), T0);
    assert.deepEqual(mergeWorkers([worker('w1'), worker('w2')], table.list()), [
      {
        agentId: 'w0',
        host: 'w0.example',
        ip: null,
        pid: null,
        version: '0.1.0',
        labels: {},
        startedAt: T0 - 1000,
        registered: false,
        health: orphan,
      },
      { ...worker('w1'), registered: true, health: live },
      { ...worker('w2'), registered: true, health: null },
    ]);
  });
});
