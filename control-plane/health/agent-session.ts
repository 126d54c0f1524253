/**
 * What one message on an agent's health session does to the agent table, for both hubs. Every
 * frame is validated by core's `parseAgentFrame`; a session that breaks the protocol is closed
 * with a policy-violation code, so a broken agent shows as offline instead of as silently stale.
 */
import type { AgentHealthView } from '../../core/health.ts';
import { parseAgentFrame } from '../../core/health.ts';
import type { AgentTable } from './agent-table.ts';

/** WebSocket close codes (RFC 6455 §7.4.1) the hubs use. */
export const CLOSE_CODES = {
  /** Normal closure: a superseded session. */
  normal: 1000,
  /** The hub is shutting down. */
  goingAway: 1001,
  /** A binary frame: the protocol is JSON text. */
  unsupportedData: 1003,
  /** A frame that is not valid, or out of order. */
  policyViolation: 1008,
} as const;

export interface AgentSession {
  readonly sessionId: string;
  /** Set by the session's hello. */
  agentId: string | null;
}

export type MessageOutcome =
  /** The agent's view changed: tell the viewers. */
  | { readonly kind: 'changed'; readonly view: AgentHealthView; readonly statusChanged: boolean }
  /** A newer session of the same agent took over: close this one. */
  | { readonly kind: 'superseded' }
  /** Close the session with this code and reason. */
  | { readonly kind: 'violation'; readonly code: number; readonly reason: string };

/** Applies one text message of `session` to `table`; updates `session.agentId` on hello. */
export function receiveAgentMessage(
  table: AgentTable,
  session: AgentSession,
  text: string,
  nowMs: number,
): MessageOutcome {
  const frame = parseAgentFrame(text);
  if (frame === null) {
    return { kind: 'violation', code: CLOSE_CODES.policyViolation, reason: 'invalid frame' };
  }
  if (frame.type === 'hello') {
    if (session.agentId !== null && session.agentId !== frame.agentId) {
      return {
        kind: 'violation',
        code: CLOSE_CODES.policyViolation,
        reason: 'hello for another agent',
      };
    }
    session.agentId = frame.agentId;
    return {
      kind: 'changed',
      view: table.hello(session.sessionId, frame, nowMs),
      statusChanged: true,
    };
  }
  if (session.agentId === null) {
    return {
      kind: 'violation',
      code: CLOSE_CODES.policyViolation,
      reason: 'hello must come first',
    };
  }
  const before = table.get(session.agentId)?.status;
  let view: AgentHealthView | null;
  if (frame.type === 'heartbeat') {
    const { type: _type, ...heartbeat } = frame;
    view = table.heartbeat(session.sessionId, session.agentId, heartbeat, nowMs);
  } else {
    view = table.close(session.sessionId, session.agentId, nowMs);
  }
  if (view === null) return { kind: 'superseded' };
  return { kind: 'changed', view, statusChanged: view.status !== before };
}

/** The session's socket closed: offline, unless a newer session already took over. */
export function closeAgentSession(
  table: AgentTable,
  session: AgentSession,
  nowMs: number,
): AgentHealthView | null {
  if (session.agentId === null) return null;
  return table.close(session.sessionId, session.agentId, nowMs);
}
