/**
 * The agent's etcd session: one lease, kept alive, judged lost by the agent itself.
 *
 * States: starting → live ⇄ lost → stopped.
 *   starting  granting the first lease (retried with backoff).
 *   live      lease granted and its last keep-alive recent enough; claims are allowed.
 *   lost      the lease may have expired; nothing may be claimed until a new one is granted.
 *   stopped   stop() was called; the lease was revoked (best effort).
 *
 * Why judge expiry locally: etcd3's `lost` event arrives about one TTL late, by which time the
 * server has freed our locks and another agent may hold them. The session is treated as lost at
 * (send time of the last acknowledged keep-alive) + TTL − margin, on a monotonic clock, so a
 * stalled process or a partition can never leave us claiming on a lease the server dropped.
 */
import { performance } from 'node:perf_hooks';
import type { Etcd3, Lease, PutBuilder } from 'etcd3';
import { backoffDelayMs } from '../core/backoff.ts';
import { CronplaneError } from '../core/errors.ts';

export type SessionState = 'starting' | 'live' | 'lost' | 'stopped';

export interface SessionOptions {
  readonly ttlSeconds: number;
  /** Safety margin subtracted from the TTL; defaults to a quarter of it, at most 2 s. */
  readonly marginMs?: number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface Session {
  readonly state: SessionState;
  /** Counts granted leases; changes each time the session is renewed after a loss. */
  readonly generation: number;
  isLive(): boolean;
  /** Attaches a put to the current lease; throws `session_lost` when there is none. */
  onLease(put: PutBuilder): PutBuilder;
  /** Resolves when the session is live (at once if it is). */
  whenLive(): Promise<void>;
  /** Listeners run on every state change; a throwing listener is reported, never fatal. */
  onChange(listener: (state: SessionState, generation: number) => void): () => void;
  /** How much longer the session is surely held (0 unless live): what fences `forbid` runs. */
  validForMs(): number;
  /** Listeners run each time a keep-alive extends the session, with the new `validForMs()`. */
  onExtended(listener: (validForMs: number) => void): () => void;
  stop(reason?: string): Promise<void>;
}

export class SessionLostError extends CronplaneError {
  constructor() {
    super('unavailable', 'etcd session is not live');
    this.name = 'SessionLostError';
  }
}

export function createSession(client: Etcd3, options: SessionOptions): Session {
  const ttlMs = options.ttlSeconds * 1000;
  const marginMs = options.marginMs ?? Math.min(2_000, Math.floor(ttlMs / 4));
  const emit = options.onEvent ?? (() => undefined);
  const listeners = new Set<(state: SessionState, generation: number) => void>();
  const extendedListeners = new Set<(validForMs: number) => void>();
  let state: SessionState = 'starting';
  let generation = 0;
  let lease: Lease | null = null;
  let leaseId: string | null = null;
  let validUntil = 0;
  let expiryTimer: NodeJS.Timeout | undefined;
  let liveWaiters: (() => void)[] = [];
  let acquiring: Promise<void> | null = null;

  // A function, not an inline comparison: the state changes across awaits.
  const isStopped = (): boolean => state === 'stopped';

  function setState(next: SessionState): void {
    if (state === next) return;
    state = next;
    emit(`session:${next}`, { generation });
    if (next === 'live') {
      const waiters = liveWaiters;
      liveWaiters = [];
      for (const resolve of waiters) resolve();
    }
    for (const listener of listeners) {
      try {
        listener(next, generation);
      } catch (error) {
        emit('session:listenerError', { error: String(error) });
      }
    }
  }

  function extendUntil(until: number): void {
    if (until <= validUntil) return;
    validUntil = until;
    clearTimeout(expiryTimer);
    const validForMs = Math.max(0, validUntil - performance.now());
    expiryTimer = setTimeout(checkExpiry, validForMs);
    expiryTimer.unref();
    for (const listener of extendedListeners) {
      try {
        listener(validForMs);
      } catch (error) {
        emit('session:listenerError', { error: String(error) });
      }
    }
  }

  function checkExpiry(): void {
    if (state !== 'live') return;
    if (performance.now() < validUntil) {
      extendUntil(validUntil);
      return;
    }
    markLost('no keep-alive acknowledged within the TTL');
  }

  function markLost(reason: string): void {
    if (state !== 'live') return;
    emit('session:lostReason', { reason, leaseId });
    lease?.release();
    lease = null;
    leaseId = null;
    setState('lost');
    acquiring ??= acquire().finally(() => {
      acquiring = null;
    });
  }

  async function acquire(): Promise<void> {
    for (let attempt = 0; !isStopped(); attempt++) {
      const candidate = client.lease(options.ttlSeconds, { autoKeepAlive: true });
      let firedAt = performance.now();
      candidate.on('keepaliveFired', () => {
        firedAt = performance.now();
      });
      candidate.on('keepaliveSucceeded', (res) => {
        if (lease !== candidate) return;
        if (Number(res.TTL) > 0) extendUntil(firedAt + ttlMs - marginMs);
        else markLost('etcd reports the lease expired');
      });
      candidate.on('lost', (error) => {
        if (lease === candidate) markLost(`etcd3 reported the lease lost: ${error.message}`);
      });
      const requestedAt = performance.now();
      try {
        const id = await candidate.grant();
        if (isStopped()) {
          await candidate.revoke().catch(() => undefined);
          return;
        }
        lease = candidate;
        leaseId = id;
        generation++;
        validUntil = 0;
        extendUntil(requestedAt + ttlMs - marginMs);
        setState('live');
        return;
      } catch (error) {
        candidate.release();
        const delayMs = backoffDelayMs(attempt, { initialDelayMs: 100, maxDelayMs: 2_000 });
        emit('session:grantFailed', {
          error: error instanceof Error ? error.message : String(error),
          retryInMs: delayMs,
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  acquiring = acquire().finally(() => {
    acquiring = null;
  });

  return {
    get state() {
      return state;
    },
    get generation() {
      return generation;
    },
    isLive() {
      if (state !== 'live') return false;
      if (performance.now() >= validUntil) {
        markLost('no keep-alive acknowledged within the TTL');
        return false;
      }
      return true;
    },
    onLease(put) {
      if (!this.isLive() || leaseId === null) throw new SessionLostError();
      return put.lease(leaseId);
    },
    whenLive() {
      if (state === 'live') return Promise.resolve();
      if (state === 'stopped')
        return Promise.reject(new CronplaneError('unavailable', 'session stopped'));
      return new Promise((resolve) => liveWaiters.push(resolve));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    validForMs() {
      return state === 'live' ? Math.max(0, validUntil - performance.now()) : 0;
    },
    onExtended(listener) {
      extendedListeners.add(listener);
      return () => extendedListeners.delete(listener);
    },
    async stop(reason = 'stopped') {
      if (state === 'stopped') return;
      const current = lease;
      lease = null;
      leaseId = null;
      clearTimeout(expiryTimer);
      setState('stopped');
      emit('session:stopReason', { reason });
      if (current) await current.revoke().catch(() => current.release());
      await acquiring;
    },
  };
}
