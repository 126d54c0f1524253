/**
 * The live-health suite, run against each runtime (health-node.test.ts, health-worker.test.ts):
 * real agents keep health sessions to the control plane, a viewer watches them, and agents are
 * frozen, killed and cut off by a control-plane restart while their jobs keep running.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { HEARTBEAT_INTERVAL_MS, STALE_AFTER_MS } from '../../core/health.ts';
import { RUN_LOG_COLLECTION } from '../../core/run-log.ts';
import { isRecord } from '../../core/wire.ts';
import { HEALTH_SUBPROTOCOL } from '../../control-plane/subprotocols.ts';
import type { AgentProcess } from '../agent/agent-process.ts';
import { startAgentProcess } from '../agent/agent-process.ts';
import type { Stack } from '../stack/index.ts';
import { startStack, uniqueDatabase, uniquePrefix, waitUntil } from '../stack/index.ts';
import type { HealthViewer } from './health-viewer.ts';
import { openHealthViewer, wsUrl } from './health-viewer.ts';
import { MongoClient } from 'mongodb';

export const HEALTH_TOKENS = {
  admin: 'health-admin-token-0123456789',
  viewer: 'health-viewer-token-0123456789',
  agent: 'health-agent-token-0123456789',
} as const;

/** Where the stack's etcd and MongoDB are, under this suite's own prefix and database. */
export interface HealthData {
  readonly stack: Stack;
  readonly prefix: string;
  readonly database: string;
}

/** A control plane that can be taken down and brought back on the same URL. */
export interface ControlPlaneUnderTest {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Everything it started; once, at the end. */
  close(): Promise<void>;
}

export interface HealthRuntime {
  readonly name: string;
  start(data: HealthData): Promise<ControlPlaneUnderTest>;
}

/**
 * A frozen agent's last heartbeat went out up to one interval before it froze; the hub calls it
 * stale STALE_AFTER_MS after that heartbeat. The slack covers timer and scheduling delays.
 */
const STALE_WITHIN_MS = STALE_AFTER_MS + HEARTBEAT_INTERVAL_MS + 2_000;
/** Agents retry with capped backoff (at most 10 s plus jitter) while the control plane is away. */
const RECONNECT_WITHIN_MS = 40_000;
const AGENT_IDS = ['health-a', 'health-b', 'health-c'] as const;
const [STEADY, FROZEN, KILLED] = AGENT_IDS;

/** The status code a WebSocket handshake is answered with (101 when it opens). */
function handshakeStatus(url: string, protocols: string[], headers: Record<string, string>) {
  return new Promise<{ status: number; protocol: string; ws: WebSocket | null }>((resolve) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => resolve({ status: 101, protocol: ws.protocol, ws }));
    ws.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, protocol: '', ws: null });
      ws.terminate();
    });
    ws.once('error', () => resolve({ status: 0, protocol: '', ws: null }));
  });
}

function closeCode(ws: WebSocket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the session was not closed')), timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export function describeLiveHealth(runtime: HealthRuntime): void {
  describe(`live health (${runtime.name})`, () => {
    let stack: Stack;
    let controlPlane: ControlPlaneUnderTest;
    let mongo: MongoClient;
    const data = { prefix: uniquePrefix(), database: uniqueDatabase() };
    const agents = new Map<string, AgentProcess>();
    const viewers: HealthViewer[] = [];

    const agent = (agentId: string): AgentProcess => {
      const found = agents.get(agentId);
      assert.ok(found, `agent ${agentId} was not started`);
      return found;
    };
    const viewer = async (): Promise<HealthViewer> => {
      const opened = await openHealthViewer(controlPlane.url, HEALTH_TOKENS.viewer);
      viewers.push(opened);
      return opened;
    };
    const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const response = await fetch(controlPlane.url + path, {
        method,
        headers: {
          authorization: `Bearer ${HEALTH_TOKENS.admin}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      assert.ok(response.ok, `${method} ${path}: HTTP ${response.status}`);
      return response.json();
    };

    before(async () => {
      stack = await startStack();
      mongo = new MongoClient(stack.mongo.url);
      controlPlane = await runtime.start({ stack, ...data });
    });
    after(async () => {
      for (const opened of viewers) opened.close();
      for (const started of agents.values()) started.child.kill('SIGKILL');
      await Promise.all([...agents.values()].map((started) => started.exited));
      await controlPlane?.close();
      await mongo?.close();
      await stack?.stop();
    });

    it('lets only the agent token connect and only viewer or admin tokens watch', async () => {
      const connect = wsUrl(controlPlane.url, '/v1/agents/connect');
      const stream = wsUrl(controlPlane.url, '/v1/health/stream');
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      const cases: [string, string, string[], Record<string, string>, number][] = [
        ['agent connects', connect, [], bearer(HEALTH_TOKENS.agent), 101],
        ['admin may not connect', connect, [], bearer(HEALTH_TOKENS.admin), 403],
        ['viewer may not connect', connect, [], bearer(HEALTH_TOKENS.viewer), 403],
        ['no token', connect, [], {}, 401],
        ['viewer watches', stream, [], bearer(HEALTH_TOKENS.viewer), 101],
        ['admin watches', stream, [], bearer(HEALTH_TOKENS.admin), 101],
        ['agent may not watch', stream, [], bearer(HEALTH_TOKENS.agent), 403],
        [
          'viewer token as a subprotocol',
          stream,
          [HEALTH_SUBPROTOCOL, `bearer.${HEALTH_TOKENS.viewer}`],
          {},
          101,
        ],
        [
          'unknown subprotocol token',
          stream,
          [HEALTH_SUBPROTOCOL, 'bearer.nope-0123456789'],
          {},
          401,
        ],
      ];
      for (const [what, url, protocols, headers, expected] of cases) {
        const { status, protocol, ws } = await handshakeStatus(url, protocols, headers);
        ws?.terminate();
        assert.equal(status, expected, what);
        if (protocols.length > 0 && status === 101) assert.equal(protocol, HEALTH_SUBPROTOCOL);
      }
      const plain = await fetch(controlPlane.url + '/v1/health/stream', {
        headers: { authorization: `Bearer ${HEALTH_TOKENS.viewer}` },
      });
      assert.equal(plain.status, 400, 'a plain GET is not an upgrade');
    });

    it('closes an agent session that breaks the protocol with 1008', async () => {
      const url = wsUrl(controlPlane.url, '/v1/agents/connect');
      const headers = { authorization: `Bearer ${HEALTH_TOKENS.agent}` };
      for (const frame of [
        'not json',
        '{"type":"heartbeat"}',
        '{"type":"hello","agentId":"../x"}',
      ]) {
        const { ws } = await handshakeStatus(url, [], headers);
        assert.ok(ws, 'the agent token opens a session');
        const closed = closeCode(ws, 10_000);
        ws.send(frame);
        assert.equal(await closed, 1008, frame);
      }
    });

    it('shows three connecting agents online to a viewer', async () => {
      const watcher = await viewer();
      assert.equal(watcher.frames[0]?.type ?? 'snapshot', 'snapshot');
      // A job every second, so runs and their logs can be watched through the outage below.
      await api('PUT', '/v1/jobs/health-tick', {
        command: 'echo tick',
        cronExpr: '* * * * * *',
      });
      for (const agentId of AGENT_IDS) {
        agents.set(
          agentId,
          startAgentProcess({
            etcdEndpoints: stack.etcd.endpoints,
            mongoUrl: stack.mongo.url,
            database: data.database,
            prefix: data.prefix,
            agentId,
            extraArgs: [
              ...['--control-plane-url', controlPlane.url],
              ...['--agent-token', HEALTH_TOKENS.agent],
            ],
          }),
        );
      }
      await watcher.waitFor(
        () => AGENT_IDS.every((id) => watcher.status(id) === 'online'),
        30_000,
        'three agents online',
      );
      await watcher.waitFor(
        () => AGENT_IDS.every((id) => watcher.view(id)?.heartbeat !== null),
        10_000,
        'a heartbeat from each agent',
      );
      const answer = await waitUntil(
        async () => {
          const body = await api('GET', '/v1/workers');
          const workers = isRecord(body) && Array.isArray(body.workers) ? body.workers : [];
          return workers.length === 3 && workers.every((w) => isRecord(w) && w.registered)
            ? workers
            : null;
        },
        { timeoutMs: 15_000, what: 'three registered workers in GET /v1/workers' },
      );
      for (const worker of answer) {
        assert.ok(isRecord(worker) && isRecord(worker.health), 'each worker has its health');
        assert.equal(worker.health.status, 'online');
      }
    });

    it(`shows a frozen agent stale within ${STALE_WITHIN_MS} ms, and online once it thaws`, async () => {
      const watcher = await viewer();
      const frozenAt = performance.now();
      agent(FROZEN).child.kill('SIGSTOP');
      await watcher.waitFor(
        () => watcher.status(FROZEN) === 'stale',
        STALE_WITHIN_MS + 5_000,
        `${FROZEN} stale`,
      );
      const staleAfterMs = performance.now() - frozenAt;
      assert.ok(staleAfterMs <= STALE_WITHIN_MS, `stale only after ${staleAfterMs.toFixed(0)} ms`);
      assert.equal(watcher.status(STEADY), 'online', 'the others stay online');
      agent(FROZEN).child.kill('SIGCONT');
      await watcher.waitFor(() => watcher.status(FROZEN) === 'online', 15_000, `${FROZEN} online`);
    });

    it('shows a killed agent offline', async () => {
      const watcher = await viewer();
      agent(KILLED).child.kill('SIGKILL');
      await agent(KILLED).exited;
      await watcher.waitFor(
        () => watcher.status(KILLED) === 'offline',
        10_000,
        `${KILLED} offline`,
      );
      assert.equal(watcher.status(STEADY), 'online');
    });

    it('reconnects agents after a control-plane restart; jobs ran and logged meanwhile', async () => {
      const runs = mongo.db(data.database).collection(RUN_LOG_COLLECTION);
      const live = [STEADY, FROZEN].map(agent);
      const connectedBefore = live.map(
        (started) => started.events.filter((e) => e.event === 'health:connected').length,
      );
      await controlPlane.stop();
      const outageStartMs = Date.now();
      await Promise.all(
        live.map((started) => started.waitForEvent('health:disconnected', undefined, 10_000)),
      );
      // While the control plane is down, new runs reach MongoDB.
      await waitUntil(
        () => runs.findOne({ jobName: 'health-tick', startTime: { $gte: outageStartMs } }),
        { timeoutMs: 15_000, what: 'a run of health-tick logged during the outage' },
      );
      const loggedDuringOutage = await runs.countDocuments({
        jobName: 'health-tick',
        startTime: { $gte: outageStartMs },
      });
      await controlPlane.start();
      const watcher = await viewer();
      await Promise.all(
        live.map((started, i) =>
          started.waitForEvent(
            'health:connected',
            () =>
              started.events.filter((e) => e.event === 'health:connected').length >
              (connectedBefore[i] ?? 0),
            RECONNECT_WITHIN_MS,
          ),
        ),
      );
      await watcher.waitFor(
        () => watcher.status(STEADY) === 'online' && watcher.status(FROZEN) === 'online',
        RECONNECT_WITHIN_MS,
        'both live agents online again',
      );
      assert.notEqual(watcher.status(KILLED), 'online');
      assert.ok(loggedDuringOutage >= 1, 'runs were logged while the control plane was down');
    });
  });
}
