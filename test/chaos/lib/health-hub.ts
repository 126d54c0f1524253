/**
 * A stand-in for the control plane's agent endpoint (`/v1/agents/connect`): accepts agents'
 * WebSocket health sessions and keeps every frame, parsed by core's own protocol reader, so a
 * scenario can see what an agent reported without depending on the control plane.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { parseAgentFrame, type HeartbeatFrame } from '../../../core/health.ts';
import { waitUntil } from '../../stack/index.ts';

export interface ReceivedHeartbeat extends HeartbeatFrame {
  readonly agentId: string;
  readonly receivedAt: number;
}

export interface HealthHub extends AsyncDisposable {
  readonly url: string;
  readonly token: string;
  readonly heartbeats: readonly ReceivedHeartbeat[];
  /** Frames that did not parse as the protocol says. */
  readonly invalidFrames: number;
  waitForHeartbeat(
    match: (heartbeat: ReceivedHeartbeat) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<ReceivedHeartbeat>;
  stop(): Promise<void>;
}

export async function startHealthHub(token = 'chaos-agent-token-0123456789'): Promise<HealthHub> {
  const heartbeats: ReceivedHeartbeat[] = [];
  let invalidFrames = 0;
  const server: Server = createServer((_request, response) => {
    response.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    if (
      request.url !== '/v1/agents/connect' ||
      request.headers.authorization !== `Bearer ${token}`
    ) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      let agentId = '?';
      ws.on('message', (data: Buffer) => {
        const frame = parseAgentFrame(data.toString('utf8'));
        if (frame === null) invalidFrames++;
        else if (frame.type === 'hello') agentId = frame.agentId;
        else if (frame.type === 'heartbeat')
          heartbeats.push({ ...frame, agentId, receivedAt: Date.now() });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const hub: HealthHub = {
    url: `http://127.0.0.1:${port}`,
    token,
    heartbeats,
    get invalidFrames() {
      return invalidFrames;
    },
    async waitForHeartbeat(match, timeoutMs, what) {
      return waitUntil(() => heartbeats.find(match), { timeoutMs, what, intervalMs: 100 });
    },
    async stop() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]: () => hub.stop(),
  };
  return hub;
}
