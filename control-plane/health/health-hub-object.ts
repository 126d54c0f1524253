/**
 * The health hub on Cloudflare Workers: one Durable Object for the fleet that accepts agents'
 * sessions and viewers' streams itself, through the WebSocket Hibernation API, so an idle hub
 * costs nothing while the sockets stay open. (Hono's Cloudflare WebSocket helper calls
 * `ws.accept()`, which pins the object in memory: it cannot hibernate.)
 *
 * What survives hibernation or eviction, and where:
 * - each socket's tag (`agent` | `viewer`) and a small attachment: an agent session's id, its
 *   agentId once it said hello, and when it was last heard from (updated on every frame);
 * - each agent's view in storage (`agent:<agentId>`), written on hello and on every status
 *   change, not on heartbeats; a restored view lacks only the latest heartbeat until the next;
 * - the alarm, set for the earliest moment an agent turns stale or an offline agent is
 *   forgotten: this is what pushes `stale` to viewers when nobody is talking.
 * An agent stored as connected whose socket is gone (the object was restarted) is offline.
 */
import { DurableObject } from 'cloudflare:workers';
import type { AgentHealthView, ViewerFrame } from '../../core/health.ts';
import { OFFLINE_RETENTION_MS, STALE_AFTER_MS } from '../../core/health.ts';
import { isValidName } from '../../core/names.ts';
import { isCount, isRecord } from '../../core/wire.ts';
import { isWebSocketUpgrade, offeredSubprotocols, selectSubprotocol } from '../subprotocols.ts';
import type { AgentSession } from './agent-session.ts';
import { CLOSE_CODES, closeAgentSession, receiveAgentMessage } from './agent-session.ts';
import { createAgentTable } from './agent-table.ts';

/** Paths of the object's own fetch handler (reached only through its stub). */
export const HUB_PATHS = { agent: '/agent', viewer: '/viewer' } as const;

const AGENT_TAG = 'agent';
const VIEWER_TAG = 'viewer';
const AGENT_KEY_PREFIX = 'agent:';

interface AgentAttachment {
  readonly sessionId: string;
  readonly agentId: string | null;
  readonly lastSeenAt: number;
}

interface StoredAgent {
  readonly view: AgentHealthView;
  readonly sessionId: string | null;
}

function readAttachment(ws: WebSocket): AgentAttachment | null {
  const value: unknown = ws.deserializeAttachment();
  if (
    !isRecord(value) ||
    typeof value.sessionId !== 'string' ||
    !(value.agentId === null || isValidName(value.agentId)) ||
    !isCount(value.lastSeenAt)
  ) {
    return null;
  }
  return { sessionId: value.sessionId, agentId: value.agentId, lastSeenAt: value.lastSeenAt };
}

/**
 * Storage is ours, but a record written by an older version of this class may differ: the fields
 * the hub's logic reads are checked; the rest reaches viewers as it was stored.
 */
function readStoredAgent(value: unknown): StoredAgent | null {
  if (!isRecord(value) || !(value.sessionId === null || typeof value.sessionId === 'string')) {
    return null;
  }
  const view = value.view;
  if (
    !isRecord(view) ||
    !isValidName(view.agentId) ||
    !isCount(view.lastSeenAt) ||
    !(view.status === 'online' || view.status === 'stale' || view.status === 'offline')
  ) {
    return null;
  }
  return { view: view as unknown as AgentHealthView, sessionId: value.sessionId };
}

export class HealthHubObject extends DurableObject<unknown> {
  private readonly table = createAgentTable();
  /** The alarm as set in storage; null when none is. */
  private alarmAtMs: number | null = null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(() => this.restore());
  }

  override fetch(request: Request): Response {
    const path = new URL(request.url).pathname;
    if (path !== HUB_PATHS.agent && path !== HUB_PATHS.viewer) {
      return new Response('not found', { status: 404 });
    }
    if (!isWebSocketUpgrade(request.headers.get('upgrade') ?? undefined)) {
      return new Response('a WebSocket upgrade is required', { status: 400 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    if (path === HUB_PATHS.agent) {
      this.ctx.acceptWebSocket(server, [AGENT_TAG]);
      server.serializeAttachment({
        sessionId: crypto.randomUUID(),
        agentId: null,
        lastSeenAt: Date.now(),
      } satisfies AgentAttachment);
    } else {
      this.ctx.acceptWebSocket(server, [VIEWER_TAG]);
      const snapshot: ViewerFrame = { type: 'snapshot', agents: this.table.list() };
      server.send(JSON.stringify(snapshot));
    }
    const protocol = selectSubprotocol(
      offeredSubprotocols(request.headers.get('sec-websocket-protocol') ?? undefined),
    );
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: protocol === undefined ? {} : { 'sec-websocket-protocol': protocol },
    });
  }

  /** Every agent the hub knows (RPC from the Worker). */
  list(): AgentHealthView[] {
    return this.table.list();
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const attachment = readAttachment(ws);
    // Viewers have nothing to say; what they send is ignored.
    if (attachment === null) return;
    if (typeof message !== 'string') {
      ws.close(CLOSE_CODES.unsupportedData, 'text frames only');
      return;
    }
    const nowMs = Date.now();
    const session: AgentSession = { sessionId: attachment.sessionId, agentId: attachment.agentId };
    const outcome = receiveAgentMessage(this.table, session, message, nowMs);
    if (outcome.kind === 'superseded') {
      ws.close(CLOSE_CODES.normal, 'superseded');
    } else if (outcome.kind === 'violation') {
      ws.close(outcome.code, outcome.reason);
    } else {
      ws.serializeAttachment({
        ...attachment,
        agentId: session.agentId,
        lastSeenAt: nowMs,
      } satisfies AgentAttachment);
      await this.changed(outcome.view, outcome.statusChanged);
    }
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.sessionEnded(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.sessionEnded(ws);
  }

  override async alarm(): Promise<void> {
    this.alarmAtMs = null;
    const { turnedStale, forgotten } = this.table.sweep(Date.now());
    for (const view of turnedStale) await this.changed(view, true);
    if (forgotten.length > 0) {
      await this.ctx.storage.delete(forgotten.map((agentId) => AGENT_KEY_PREFIX + agentId));
    }
    const next = this.table.nextSweepAtMs();
    if (next !== null) await this.sweepBy(next);
  }

  private async sessionEnded(ws: WebSocket): Promise<void> {
    const attachment = readAttachment(ws);
    if (attachment === null) return;
    const view = closeAgentSession(this.table, { ...attachment }, Date.now());
    if (view) await this.changed(view, true);
  }

  /** Tells the viewers, stores status changes, and makes sure the next deadline has an alarm. */
  private async changed(view: AgentHealthView, statusChanged: boolean): Promise<void> {
    const text = JSON.stringify({ type: 'agent', agent: view } satisfies ViewerFrame);
    for (const viewer of this.ctx.getWebSockets(VIEWER_TAG)) {
      try {
        viewer.send(text);
      } catch {
        // A viewer that is going away misses the frame; the others must not.
      }
    }
    if (statusChanged) {
      await this.ctx.storage.put(AGENT_KEY_PREFIX + view.agentId, {
        view,
        sessionId: this.table.sessionOf(view.agentId),
      } satisfies StoredAgent);
    }
    await this.sweepBy(
      view.status === 'offline'
        ? view.lastSeenAt + OFFLINE_RETENTION_MS
        : view.lastSeenAt + STALE_AFTER_MS + 1,
    );
  }

  /** An alarm by `dueAtMs`; a change only adds deadlines, and `alarm` finds the next one. */
  private async sweepBy(dueAtMs: number): Promise<void> {
    if (this.alarmAtMs !== null && this.alarmAtMs <= dueAtMs) return;
    this.alarmAtMs = dueAtMs;
    await this.ctx.storage.setAlarm(dueAtMs);
  }

  private async restore(): Promise<void> {
    const stored = await this.ctx.storage.list({ prefix: AGENT_KEY_PREFIX });
    for (const value of stored.values()) {
      const agent = readStoredAgent(value);
      if (agent) this.table.restore(agent.view, agent.sessionId);
    }
    const connected = new Set<string>();
    for (const ws of this.ctx.getWebSockets(AGENT_TAG)) {
      const attachment = readAttachment(ws);
      if (attachment?.agentId == null) continue;
      const view = this.table.get(attachment.agentId);
      if (!view || this.table.sessionOf(attachment.agentId) !== attachment.sessionId) continue;
      connected.add(attachment.agentId);
      if (attachment.lastSeenAt > view.lastSeenAt) {
        this.table.restore({ ...view, lastSeenAt: attachment.lastSeenAt }, attachment.sessionId);
      }
    }
    const nowMs = Date.now();
    for (const view of this.table.list()) {
      const sessionId = this.table.sessionOf(view.agentId);
      if (sessionId === null || connected.has(view.agentId)) continue;
      const offline = this.table.close(sessionId, view.agentId, nowMs);
      if (offline) await this.changed(offline, true);
    }
    this.alarmAtMs = await this.ctx.storage.getAlarm();
    const next = this.table.nextSweepAtMs();
    if (next !== null) await this.sweepBy(next);
  }
}
