/**
 * The health hub's table of agents, shared by the Node hub and the Durable Object. Pure: no
 * sockets and no timers; callers feed it frames with the time, broadcast the views it returns,
 * and call `sweep` at `nextSweepAtMs()`.
 *
 * An agent's states:
 *
 *   online ──(silent for STALE_AFTER_MS)──▶ stale ──(any frame)──▶ online
 *     │                                      │
 *     └──────(bye, or its session closed)────┴──▶ offline ──(OFFLINE_RETENTION_MS)──▶ forgotten
 *
 * Only the agent's current session counts: a hello on a new session takes the agent over (an
 * agent that reconnects may do so before the hub notices that its old socket died), and
 * anything that later happens on the old session changes nothing.
 */
import type { AgentHealthView, Heartbeat, HelloFrame } from '../../core/health.ts';
import { OFFLINE_RETENTION_MS, STALE_AFTER_MS, statusAt } from '../../core/health.ts';

interface Entry {
  view: AgentHealthView;
  /** The session the agent speaks on; null once offline. */
  sessionId: string | null;
}

export interface AgentTable {
  /** The agent is online on `sessionId` from now. */
  hello(sessionId: string, frame: Omit<HelloFrame, 'type'>, nowMs: number): AgentHealthView;
  /** Null when `sessionId` is not the agent's current session. */
  heartbeat(
    sessionId: string,
    agentId: string,
    heartbeat: Heartbeat,
    nowMs: number,
  ): AgentHealthView | null;
  /** The session ended (bye or close): offline. Null when it was not the current session. */
  close(sessionId: string, agentId: string, nowMs: number): AgentHealthView | null;
  /** Marks agents silent past STALE_AFTER_MS stale; forgets agents offline for long. */
  sweep(nowMs: number): SweepResult;
  /** The earliest time at which `sweep` has something to do, or null. */
  nextSweepAtMs(): number | null;
  get(agentId: string): AgentHealthView | undefined;
  list(): AgentHealthView[];
  sessionOf(agentId: string): string | null;
  /** Puts an entry back as it was (the Durable Object waking from hibernation). */
  restore(view: AgentHealthView, sessionId: string | null): void;
}

export interface SweepResult {
  readonly turnedStale: readonly AgentHealthView[];
  readonly forgotten: readonly string[];
}

export function createAgentTable(): AgentTable {
  const entries = new Map<string, Entry>();

  const current = (agentId: string, sessionId: string): Entry | undefined => {
    const entry = entries.get(agentId);
    return entry?.sessionId === sessionId ? entry : undefined;
  };

  return {
    hello(sessionId, frame, nowMs) {
      const view: AgentHealthView = {
        agentId: frame.agentId,
        host: frame.host,
        version: frame.version,
        labels: frame.labels,
        startedAt: frame.startedAt,
        status: 'online',
        connectedAt: nowMs,
        lastSeenAt: nowMs,
        heartbeat: null,
      };
      entries.set(frame.agentId, { view, sessionId });
      return view;
    },

    heartbeat(sessionId, agentId, heartbeat, nowMs) {
      const entry = current(agentId, sessionId);
      if (!entry) return null;
      entry.view = { ...entry.view, status: 'online', lastSeenAt: nowMs, heartbeat };
      return entry.view;
    },

    close(sessionId, agentId, nowMs) {
      const entry = current(agentId, sessionId);
      if (!entry) return null;
      entry.sessionId = null;
      // lastSeenAt becomes the time it went offline: retention counts from there.
      entry.view = { ...entry.view, status: 'offline', lastSeenAt: nowMs };
      return entry.view;
    },

    sweep(nowMs) {
      const turnedStale: AgentHealthView[] = [];
      const forgotten: string[] = [];
      for (const [agentId, entry] of entries) {
        const { view } = entry;
        if (view.status === 'offline') {
          if (nowMs - view.lastSeenAt >= OFFLINE_RETENTION_MS) {
            entries.delete(agentId);
            forgotten.push(agentId);
          }
        } else if (view.status === 'online' && statusAt(view, nowMs) === 'stale') {
          entry.view = { ...view, status: 'stale' };
          turnedStale.push(entry.view);
        }
      }
      return { turnedStale, forgotten };
    },

    nextSweepAtMs() {
      let next: number | null = null;
      for (const { view } of entries.values()) {
        // statusAt calls an agent stale once strictly more than STALE_AFTER_MS has passed.
        const dueAtMs =
          view.status === 'online'
            ? view.lastSeenAt + STALE_AFTER_MS + 1
            : view.status === 'offline'
              ? view.lastSeenAt + OFFLINE_RETENTION_MS
              : null;
        if (dueAtMs !== null && (next === null || dueAtMs < next)) next = dueAtMs;
      }
      return next;
    },

    get(agentId) {
      return entries.get(agentId)?.view;
    },

    list() {
      return [...entries.values()]
        .map((entry) => entry.view)
        .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
    },

    sessionOf(agentId) {
      return entries.get(agentId)?.sessionId ?? null;
    },

    restore(view, sessionId) {
      entries.set(view.agentId, { view, sessionId });
    },
  };
}
