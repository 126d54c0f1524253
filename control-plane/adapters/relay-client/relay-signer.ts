/** Signs relay requests with HMAC-SHA256 through WebCrypto (Node 20 and Workers alike). */
import { bytesToHex } from '../../../core/bytes.ts';
import { CronplaneError } from '../../../core/errors.ts';
import {
  RELAY_HEADERS,
  RELAY_MIN_SECRET_CHARS,
  relayStringToSign,
} from '../../../core/relay-signing.ts';

export interface RelaySignerOptions {
  /** Epoch-ms clock; tests move it to produce stale requests. */
  readonly now?: () => number;
  readonly randomNonce?: () => string;
}

export interface RelaySigner {
  /** The three signature headers for one request. */
  sign(
    method: string,
    pathWithQuery: string,
    body: Uint8Array<ArrayBuffer>,
  ): Promise<Record<string, string>>;
}

async function sha256HexOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

function randomNonceHex(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
}

export function createRelaySigner(secret: string, options: RelaySignerOptions = {}): RelaySigner {
  if (secret.length < RELAY_MIN_SECRET_CHARS) {
    throw new CronplaneError(
      'invalid_config',
      `the relay secret must be at least ${RELAY_MIN_SECRET_CHARS} characters`,
    );
  }
  const now = options.now ?? Date.now;
  const randomNonce = options.randomNonce ?? randomNonceHex;
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return {
    async sign(method, pathWithQuery, body) {
      const timestampMs = now();
      const nonce = randomNonce();
      const stringToSign = relayStringToSign({
        method,
        pathWithQuery,
        timestampMs,
        nonce,
        bodySha256Hex: await sha256HexOf(body),
      });
      const mac = await crypto.subtle.sign(
        'HMAC',
        await key,
        new TextEncoder().encode(stringToSign),
      );
      return {
        [RELAY_HEADERS.timestamp]: String(timestampMs),
        [RELAY_HEADERS.nonce]: nonce,
        [RELAY_HEADERS.signature]: bytesToHex(new Uint8Array(mac)),
      };
    },
  };
}
