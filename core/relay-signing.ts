/**
 * The relay's request signature: which bytes the HMAC-SHA256 covers and the headers that carry
 * it. Pure; the HMAC itself is computed with WebCrypto by the relay client and the relay.
 *
 *   signature = hex(HMAC-SHA256(secret, stringToSign))
 *   stringToSign = "cronplane-relay-v1\n" + METHOD + "\n" + pathWithQuery + "\n"
 *                  + timestampMs + "\n" + nonce + "\n" + hex(SHA-256(body))
 *
 * The timestamp bounds how long a captured request stays usable; the nonce makes it usable once.
 */

export const RELAY_SIGNATURE_VERSION = 'cronplane-relay-v1';

export const RELAY_HEADERS = {
  timestamp: 'x-cronplane-timestamp',
  nonce: 'x-cronplane-nonce',
  signature: 'x-cronplane-signature',
} as const;

/** A request whose timestamp is further than this from the relay's clock, either way, is refused. */
export const RELAY_MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Shortest shared secret the relay and its clients accept. */
export const RELAY_MIN_SECRET_CHARS = 16;

export interface RelaySignedParts {
  readonly method: string;
  /** Path and query exactly as sent, e.g. `/relay/v1/jobs.list`. */
  readonly pathWithQuery: string;
  readonly timestampMs: number;
  readonly nonce: string;
  readonly bodySha256Hex: string;
}

export function relayStringToSign(parts: RelaySignedParts): string {
  return [
    RELAY_SIGNATURE_VERSION,
    parts.method.toUpperCase(),
    parts.pathWithQuery,
    String(parts.timestampMs),
    parts.nonce,
    parts.bodySha256Hex.toLowerCase(),
  ].join('\n');
}

const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;

export function isRelayNonce(value: unknown): value is string {
  return typeof value === 'string' && NONCE_PATTERN.test(value);
}

export function isRelaySignature(value: unknown): value is string {
  return typeof value === 'string' && SIGNATURE_PATTERN.test(value);
}

/** Epoch ms from the timestamp header, or null when it is not a plain decimal integer. */
export function parseRelayTimestamp(value: string | null | undefined): number | null {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return null;
  return Number(value);
}

export function isWithinClockSkew(timestampMs: number, nowMs: number): boolean {
  return Math.abs(nowMs - timestampMs) <= RELAY_MAX_CLOCK_SKEW_MS;
}
