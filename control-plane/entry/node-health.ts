/**
 * Live health on Node: the in-process hub, upgraded through `@hono/node-server`'s built-in
 * WebSocket support over a `ws` server that the HTTP server hands its upgrades to.
 */
import { upgradeWebSocket } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES } from '../../core/health.ts';
import type { InProcessHub } from '../health/in-process-hub.ts';
import { createInProcessHub } from '../health/in-process-hub.ts';
import { selectSubprotocol } from '../subprotocols.ts';

export interface NodeHealth {
  readonly hub: InProcessHub;
  /** Pass to the HTTP server (`websocket: { server }`). */
  readonly websocketServer: WebSocketServer;
  /** Says goodbye to every socket, then cuts those that do not answer (a frozen agent). */
  close(): void;
}

export function createNodeHealth(onError?: (error: unknown) => void): NodeHealth {
  const websocketServer = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    // A viewer's token rides in its offered subprotocols; only the health protocol is answered.
    handleProtocols: (offered) => selectSubprotocol(offered) ?? false,
  });
  const hub = createInProcessHub({ upgradeWebSocket, ...(onError ? { onError } : {}) });
  return {
    hub,
    websocketServer,
    close() {
      hub.close();
      for (const client of websocketServer.clients) client.terminate();
    },
  };
}
