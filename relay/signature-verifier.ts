/**
 * Checks a relay request's signature headers before anything else looks at the request:
 * malformed, stale (beyond the clock-skew window either way), forged or replayed → 401.
 */
import { bytesToHex, hexToBytes } from '../core/bytes.ts';
import { CronplaneError } from '../core/errors.ts';
import {
  RELAY_HEADERS,
  RELAY_MAX_CLOCK_SKEW_MS,
  RELAY_MIN_SECRET_CHARS,
  isRelayNonce,
  isRelaySignature,
  isWithinClockSkew,
  parseRelayTimestamp,
  relayStringToSign,
} from '../core/relay-signing.ts';
import type { NonceCache } from './nonce-cache.ts';

export interface SignedRequest {
  readonly method: string;
  readonly pathWithQuery: string;
  readonly header: (name: string) => string | undefined;
  readonly body: Uint8Array<ArrayBuffer>;
}

export interface SignatureVerifier {
  /** Resolves when the request is authentic and fresh; throws `unauthorized` otherwise. */
  verify(request: SignedRequest): Promise<void>;
}

const refuse = (reason: string) => new CronplaneError('unauthorized', `relay: ${reason}`);

export function createSignatureVerifier(
  secret: string,
  nonces: NonceCache,
  now: () => number = Date.now,
): SignatureVerifier {
  if (secret.length < RELAY_MIN_SECRET_CHARS) {
    throw new CronplaneError(
      'invalid_config',
      `the relay secret must be at least ${RELAY_MIN_SECRET_CHARS} characters`,
    );
  }
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );

  return {
    async verify({ method, pathWithQuery, header, body }) {
      const timestampMs = parseRelayTimestamp(header(RELAY_HEADERS.timestamp));
      const nonce = header(RELAY_HEADERS.nonce);
      const signature = header(RELAY_HEADERS.signature);
      if (timestampMs === null || !isRelayNonce(nonce) || !isRelaySignature(signature)) {
        throw refuse('request is not signed');
      }
      const nowMs = now();
      if (!isWithinClockSkew(timestampMs, nowMs)) throw refuse('request timestamp is stale');
      const bodyDigest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
      const stringToSign = relayStringToSign({
        method,
        pathWithQuery,
        timestampMs,
        nonce,
        bodySha256Hex: bytesToHex(bodyDigest),
      });
      // WebCrypto's verify compares in constant time.
      const authentic = await crypto.subtle.verify(
        'HMAC',
        await key,
        hexToBytes(signature) ?? new Uint8Array(),
        new TextEncoder().encode(stringToSign),
      );
      if (!authentic) throw refuse('signature does not match');
      // Only authentic requests reach the cache, so forged ones cannot fill it.
      const verdict = nonces.remember(nonce, timestampMs + RELAY_MAX_CLOCK_SKEW_MS, nowMs);
      if (verdict === 'replayed') throw refuse('request was already received (replay)');
      if (verdict === 'full') {
        throw new CronplaneError('unavailable', 'relay: too many requests in the replay window');
      }
    },
  };
}
