/** Serving a fetch handler on Node: listen (resolving the bound port) and a graceful close. */
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { WebSocketServerLike } from '@hono/node-server';
import { createAdaptorServer } from '@hono/node-server';
import type { TlsCredentials } from './tls.ts';

export interface HttpServer {
  readonly port: number;
  /** `http(s)://host:port`, with IPv6 hosts bracketed. */
  readonly url: string;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_CLOSE_GRACE_MS = 5000;

export async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  options: { port: number; host: string; tls?: TlsCredentials },
  /** Takes the server's WebSocket upgrades (the fetch handler answers them first). */
  websocketServer?: WebSocketServerLike,
): Promise<HttpServer> {
  const server = createAdaptorServer({
    fetch,
    ...(options.tls
      ? {
          createServer: createHttpsServer,
          serverOptions: { cert: options.tls.cert, key: options.tls.key },
        }
      : {}),
    ...(websocketServer ? { websocket: { server: websocketServer } } : {}),
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('the HTTP server is not listening on a TCP port');
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    port: address.port,
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    async close(graceMs = DEFAULT_CLOSE_GRACE_MS) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
