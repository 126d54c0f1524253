/**
 * The fleet's live health over the control plane's WebSocket (`/v1/health/stream`): a snapshot
 * first, then one frame per change of an agent. Browsers cannot set an Authorization header on
 * a WebSocket, so the token travels as the `bearer.<token>` subprotocol next to the protocol
 * the server answers with (see control-plane/subprotocols.ts). A dropped stream reconnects with
 * capped, jittered backoff, and the next snapshot replaces whatever was missed meanwhile.
 *
 * States: connecting → live → (retrying → connecting …) → closed.
 */
import { backoffDelayMs } from '../../core/backoff.ts';
import type { ViewerFrame } from '../../core/health.ts';
import { readViewerFrame } from './wire.ts';

export type StreamState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'live' }
  | { readonly kind: 'retrying'; readonly inMs: number }
  /** The browser refused to open the socket at all; retrying would not help. */
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'closed' };

export interface HealthStreamOptions {
  readonly token: string;
  readonly onFrame: (frame: ViewerFrame) => void;
  readonly onState: (state: StreamState) => void;
}

export interface HealthStream {
  close(): void;
}

const HEALTH_SUBPROTOCOL = 'cronplane.health.v1';
const BACKOFF = { initialDelayMs: 500, maxDelayMs: 15_000 };

function streamUrl(): string {
  const url = new URL('/v1/health/stream', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function openHealthStream({ token, onFrame, onState }: HealthStreamOptions): HealthStream {
  let socket: WebSocket | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let closed = false;

  function connect(): void {
    onState({ kind: 'connecting' });
    let ws: WebSocket;
    try {
      ws = new WebSocket(streamUrl(), [HEALTH_SUBPROTOCOL, `bearer.${token}`]);
    } catch {
      // A subprotocol may hold only RFC 7230 token characters; a token with "/" or "=" cannot
      // travel this way.
      onState({ kind: 'failed', reason: 'this token cannot be sent over a WebSocket' });
      return;
    }
    socket = ws;
    ws.addEventListener('message', (event: MessageEvent) => {
      const frame = typeof event.data === 'string' ? readViewerFrame(event.data) : null;
      // A frame this console cannot read is skipped; the next snapshot corrects the picture.
      if (frame === null) return;
      if (frame.type === 'snapshot') {
        attempt = 0;
        onState({ kind: 'live' });
      }
      onFrame(frame);
    });
    ws.addEventListener('close', () => {
      if (closed || socket !== ws) return;
      const inMs = backoffDelayMs(attempt++, BACKOFF);
      onState({ kind: 'retrying', inMs });
      retryTimer = setTimeout(connect, inMs);
    });
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      // Closing a socket still connecting makes the browser log an error; let it open first.
      if (socket?.readyState === WebSocket.CONNECTING) {
        const connecting = socket;
        connecting.addEventListener('open', () => connecting.close(1000, 'viewer left'));
      } else {
        socket?.close(1000, 'viewer left');
      }
      onState({ kind: 'closed' });
    },
  };
}
