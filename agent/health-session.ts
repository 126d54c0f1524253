/**
 * The agent's WebSocket session to the control plane, for live health only: scheduling, running
 * and logging never wait on it. It reconnects with capped, jittered backoff for as long as the
 * agent runs, so a control-plane outage or restart heals by itself.
 *
 * States: connecting → open → (closed → connecting …) → stopped.
 */
import WebSocket from 'ws';
import { backoffDelayMs } from '../core/backoff.ts';
import { HEARTBEAT_INTERVAL_MS, type Heartbeat, type HelloFrame } from '../core/health.ts';

export type HealthSessionState = 'connecting' | 'open' | 'closed' | 'stopped';

export interface HealthSessionOptions {
  readonly controlPlaneUrl: string;
  readonly agentToken: string;
  /** PEM text of an extra CA to trust for wss:// (self-signed control planes). */
  readonly ca?: string;
  readonly hello: () => Omit<HelloFrame, 'type'>;
  readonly heartbeat: () => Heartbeat;
  readonly heartbeatIntervalMs?: number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface HealthSession {
  readonly state: HealthSessionState;
  stop(reason: string): Promise<void>;
}

export function connectUrl(controlPlaneUrl: string): string {
  const url = new URL('/v1/agents/connect', controlPlaneUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function startHealthSession(options: HealthSessionOptions): HealthSession {
  const emit = options.onEvent ?? (() => undefined);
  const intervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
  let state: HealthSessionState = 'connecting';
  let socket: WebSocket | null = null;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let attempt = 0;

  const send = (frame: object): void => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  };

  function connect(): void {
    if (state === 'stopped') return;
    state = 'connecting';
    const ws = new WebSocket(connectUrl(options.controlPlaneUrl), {
      headers: { authorization: `Bearer ${options.agentToken}` },
      handshakeTimeout: 5_000,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    socket = ws;
    ws.on('open', () => {
      state = 'open';
      emit('health:connected', { attempt });
      attempt = 0;
      send({ type: 'hello', ...options.hello() });
      send({ type: 'heartbeat', ...options.heartbeat() });
      heartbeatTimer = setInterval(() => {
        try {
          send({ type: 'heartbeat', ...options.heartbeat() });
        } catch (error) {
          emit('health:heartbeatFailed', { error: String(error) });
        }
      }, intervalMs);
    });
    ws.on('unexpected-response', (_request, response) => {
      emit('health:refused', { status: response.statusCode });
    });
    ws.on('error', (error) => emit('health:error', { error: error.message }));
    ws.on('close', () => {
      clearInterval(heartbeatTimer);
      if (socket === ws) socket = null;
      if (state === 'stopped') return;
      state = 'closed';
      const delayMs = backoffDelayMs(attempt++, { initialDelayMs: 250, maxDelayMs: 10_000 });
      emit('health:disconnected', { retryInMs: delayMs });
      reconnectTimer = setTimeout(connect, delayMs);
      reconnectTimer.unref();
    });
  }

  connect();

  return {
    get state() {
      return state;
    },
    async stop(reason) {
      if (state === 'stopped') return;
      state = 'stopped';
      clearTimeout(reconnectTimer);
      clearInterval(heartbeatTimer);
      const ws = socket;
      socket = null;
      if (!ws) return;
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'bye', reason }));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1_000);
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.close(1000, 'bye');
      });
    },
  };
}
