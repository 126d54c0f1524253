/**
 * Remembers the nonces of accepted requests for as long as their timestamps stay acceptable, so a
 * captured request cannot be sent twice. Bounded: when full of live nonces it refuses new ones
 * (the relay answers 503) rather than forget one and let a replay through.
 */

export type NonceVerdict = 'fresh' | 'replayed' | 'full';

export interface NonceCache {
  /** Records `nonce` as used until `expiresAtMs`. */
  remember(nonce: string, expiresAtMs: number, nowMs: number): NonceVerdict;
  readonly size: number;
}

const DEFAULT_MAX_NONCES = 100_000;

export function createNonceCache(maxEntries = DEFAULT_MAX_NONCES): NonceCache {
  // Insertion order is roughly expiry order (expiry = timestamp + window), so sweeping from the
  // front frees almost everything that has expired; a straggler only waits for the next sweep.
  const expiries = new Map<string, number>();

  function sweep(nowMs: number): void {
    for (const [nonce, expiresAtMs] of expiries) {
      if (expiresAtMs > nowMs) break;
      expiries.delete(nonce);
    }
  }

  return {
    remember(nonce, expiresAtMs, nowMs) {
      const known = expiries.get(nonce);
      if (known !== undefined && known > nowMs) return 'replayed';
      sweep(nowMs);
      if (expiries.size >= maxEntries) return 'full';
      expiries.set(nonce, expiresAtMs);
      return 'fresh';
    },
    get size() {
      return expiries.size;
    },
  };
}
