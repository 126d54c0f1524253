/**
 * The live-health WebSockets: `/v1/agents/connect` (agent token) and `/v1/health/stream`
 * (viewer or admin token, also as a `bearer.<token>` subprotocol). Authentication and the role
 * check happen before these handlers, in app.ts, as for every `/v1` route.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { invalidField } from '../../core/wire.ts';
import type { AppEnv } from '../auth.ts';
import type { HealthHub } from '../ports.ts';
import { isWebSocketUpgrade } from '../subprotocols.ts';

function requireUpgrade(c: Context): void {
  if (!isWebSocketUpgrade(c.req.header('upgrade'))) {
    throw invalidField('Upgrade', 'must be "websocket": this endpoint is a WebSocket');
  }
}

export function liveHealthRoutes(hub: HealthHub): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get('/agents/connect', (c) => {
      requireUpgrade(c);
      return hub.connectAgent(c);
    })
    .get('/health/stream', (c) => {
      requireUpgrade(c);
      return hub.streamViewers(c);
    });
}
