/**
 * The health hub inside one control-plane process (Node): agents' sessions and viewers' streams
 * are sockets of this process, the agent table lives in memory, and one timer marks agents
 * stale when their deadline passes, so viewers hear of a silent agent without asking.
 *
 * Runtime-neutral: the WebSocket upgrade is handed in (Node: `upgradeWebSocket` of
 * `@hono/node-server`, wired in entry/node-health.ts), so this file imports no Node module.
 */
import type { Context } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import type { AgentHealthView, ViewerFrame } from '../../core/health.ts';
import { OFFLINE_RETENTION_MS, STALE_AFTER_MS } from '../../core/health.ts';
import type { HealthHub } from '../ports.ts';
import type { AgentSession } from './agent-session.ts';
import { CLOSE_CODES, closeAgentSession, receiveAgentMessage } from './agent-session.ts';
import { createAgentTable } from './agent-table.ts';

export interface InProcessHubOptions {
  readonly upgradeWebSocket: UpgradeWebSocket;
  /** Epoch-ms clock. */
  readonly now?: () => number;
  /** Receives errors of sockets and of viewers' sends; a failing viewer never stops the hub. */
  readonly onError?: (error: unknown) => void;
}

export interface InProcessHub extends HealthHub {
  /** Closes every session and stream (going away) and stops the timer. */
  close(): void;
}

export function createInProcessHub(options: InProcessHubOptions): InProcessHub {
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error) => console.error(error));
  const table = createAgentTable();
  const viewers = new Set<WSContext>();
  const agentSockets = new Set<WSContext>();
  let sweepTimer: ReturnType<typeof setTimeout> | undefined;
  let sweepAtMs: number | null = null;
  let closed = false;

  const send = (ws: WSContext, frame: ViewerFrame): void => {
    try {
      ws.send(JSON.stringify(frame));
    } catch (error) {
      onError(error);
    }
  };

  const broadcast = (view: AgentHealthView): void => {
    for (const viewer of viewers) send(viewer, { type: 'agent', agent: view });
  };

  const sweep = (): void => {
    sweepAtMs = null;
    sweepTimer = undefined;
    for (const view of table.sweep(now()).turnedStale) broadcast(view);
    const next = table.nextSweepAtMs();
    if (next !== null) sweepBy(next);
  };

  /** Makes sure a sweep runs by `dueAtMs`; a change can only add deadlines, never remove one. */
  const sweepBy = (dueAtMs: number): void => {
    if (closed || (sweepAtMs !== null && sweepAtMs <= dueAtMs)) return;
    clearTimeout(sweepTimer);
    sweepAtMs = dueAtMs;
    sweepTimer = setTimeout(sweep, Math.max(0, dueAtMs - now()));
  };

  const changed = (view: AgentHealthView): void => {
    broadcast(view);
    sweepBy(
      view.status === 'offline'
        ? view.lastSeenAt + OFFLINE_RETENTION_MS
        : view.lastSeenAt + STALE_AFTER_MS + 1,
    );
  };

  return {
    connectAgent(c: Context) {
      const session: AgentSession = { sessionId: crypto.randomUUID(), agentId: null };
      return options.upgradeWebSocket(c, {
        onOpen: (_event, ws) => {
          if (closed) ws.close(CLOSE_CODES.goingAway, 'control plane stopping');
          else agentSockets.add(ws);
        },
        // Typed here: Hono types it as the DOM's MessageEvent, which Node's view of the folder
        // does not declare.
        onMessage: (event: { readonly data: unknown }, ws) => {
          if (typeof event.data !== 'string') {
            ws.close(CLOSE_CODES.unsupportedData, 'text frames only');
            return;
          }
          const outcome = receiveAgentMessage(table, session, event.data, now());
          if (outcome.kind === 'changed') changed(outcome.view);
          else if (outcome.kind === 'superseded') ws.close(CLOSE_CODES.normal, 'superseded');
          else ws.close(outcome.code, outcome.reason);
        },
        onClose: (_event, ws) => {
          agentSockets.delete(ws);
          const view = closeAgentSession(table, session, now());
          if (view) changed(view);
        },
        onError: (event) => onError(event),
      });
    },

    streamViewers(c: Context) {
      return options.upgradeWebSocket(c, {
        onOpen: (_event, ws) => {
          if (closed) {
            ws.close(CLOSE_CODES.goingAway, 'control plane stopping');
            return;
          }
          viewers.add(ws);
          send(ws, { type: 'snapshot', agents: table.list() });
        },
        // Viewers have nothing to say; what they send is ignored.
        onClose: (_event, ws) => {
          viewers.delete(ws);
        },
        onError: (event) => onError(event),
      });
    },

    list() {
      return Promise.resolve(table.list());
    },

    close() {
      closed = true;
      clearTimeout(sweepTimer);
      for (const ws of [...agentSockets, ...viewers]) {
        ws.close(CLOSE_CODES.goingAway, 'control plane stopping');
      }
    },
  };
}
