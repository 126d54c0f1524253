/**
 * A live-health viewer for tests: subscribes to `/v1/health/stream` the way a browser must (the
 * token as a `bearer.<token>` subprotocol), validates every frame, keeps the latest view of each
 * agent, and lets a test wait for a state; waits resolve on frames, not on timers.
 */
import WebSocket from 'ws';
import type { AgentHealthView, AgentStatus } from '../../core/health.ts';
import { isCount, isRecord } from '../../core/wire.ts';
import { BEARER_SUBPROTOCOL_PREFIX, HEALTH_SUBPROTOCOL } from '../../control-plane/subprotocols.ts';

export type ViewerFrameSeen =
  | { readonly type: 'snapshot'; readonly agents: readonly AgentHealthView[] }
  | { readonly type: 'agent'; readonly agent: AgentHealthView };

const STATUSES: readonly string[] = ['online', 'stale', 'offline'];

/** The fields a test relies on; a frame without them fails the test that receives it. */
function readView(value: unknown): AgentHealthView | null {
  if (
    !isRecord(value) ||
    typeof value.agentId !== 'string' ||
    typeof value.host !== 'string' ||
    typeof value.status !== 'string' ||
    !STATUSES.includes(value.status) ||
    !isCount(value.lastSeenAt) ||
    !isCount(value.connectedAt) ||
    !(value.heartbeat === null || isRecord(value.heartbeat))
  ) {
    return null;
  }
  return value as unknown as AgentHealthView;
}

export function readViewerFrame(text: string): ViewerFrameSeen | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  if (value.type === 'snapshot' && Array.isArray(value.agents)) {
    const agents = value.agents.map(readView);
    return agents.every((view) => view !== null) ? { type: 'snapshot', agents } : null;
  }
  if (value.type === 'agent') {
    const agent = readView(value.agent);
    return agent ? { type: 'agent', agent } : null;
  }
  return null;
}

export function wsUrl(httpUrl: string, path: string): string {
  const url = new URL(path, httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export interface HealthViewer {
  readonly frames: readonly ViewerFrameSeen[];
  /** The protocol the server selected. */
  readonly protocol: string;
  status(agentId: string): AgentStatus | undefined;
  view(agentId: string): AgentHealthView | undefined;
  /** Resolves when `done()` holds after some frame (or already); rejects after `timeoutMs`. */
  waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): void;
}

export async function openHealthViewer(baseUrl: string, token: string): Promise<HealthViewer> {
  const ws = new WebSocket(wsUrl(baseUrl, '/v1/health/stream'), [
    HEALTH_SUBPROTOCOL,
    BEARER_SUBPROTOCOL_PREFIX + token,
  ]);
  const frames: ViewerFrameSeen[] = [];
  const views = new Map<string, AgentHealthView>();
  const waiters = new Set<() => void>();
  let failure: Error | undefined;

  ws.on('message', (data: Buffer, isBinary) => {
    const frame = isBinary ? null : readViewerFrame(data.toString('utf8'));
    if (frame === null) {
      failure = new Error(`invalid viewer frame: ${data.toString('utf8').slice(0, 200)}`);
    } else {
      frames.push(frame);
      if (frame.type === 'snapshot') {
        views.clear();
        for (const agent of frame.agents) views.set(agent.agentId, agent);
      } else {
        views.set(frame.agent.agentId, frame.agent);
      }
    }
    for (const waiter of waiters) waiter();
  });
  ws.on('close', () => {
    failure ??= new Error('the health stream closed');
    for (const waiter of waiters) waiter();
  });

  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) =>
      reject(new Error(`/v1/health/stream answered HTTP ${response.statusCode}`)),
    );
  });

  return {
    frames,
    protocol: ws.protocol,
    status: (agentId) => views.get(agentId)?.status,
    view: (agentId) => views.get(agentId),
    waitFor(done, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (done()) finish();
          else if (failure) finish(failure);
        };
        const finish = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const timer = setTimeout(() => {
          const seen = [...views.values()].map((v) => `${v.agentId}:${v.status}`).join(', ');
          finish(new Error(`no frame showed ${what} within ${timeoutMs} ms (seen: ${seen})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      ws.terminate();
    },
  };
}
