/**
 * Run webhooks: a signed JSON summary POSTed to a job's `notify.failure` (or `.success`) URLs
 * and to the agent's defaults. Delivery is fire-and-forget for the run: it is retried with
 * backoff in the background, never delays the next run, and a failure is logged and counted,
 * never fatal.
 *
 * Signature: `x-cronplane-signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
 * `x-cronplane-timestamp: <epoch ms>`, so a receiver can refuse stale or forged deliveries.
 */
import { createHmac } from 'node:crypto';
import { backoffDelayMs } from '../core/backoff.ts';
import type { Job } from '../core/job.ts';
import type { RunRecord } from '../core/run-log.ts';

export const OUTPUT_TAIL_CHARS = 4096;

export interface WebhookPayload {
  readonly event: 'run.failed' | 'run.succeeded';
  readonly job: string;
  readonly runId: string;
  readonly status: RunRecord['status'];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly err: string;
  readonly planTime: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly durationMs: number;
  readonly agentId: string;
  readonly host: string;
  readonly outputTail: string;
  readonly consoleUrl: string | null;
}

export interface NotifierOptions {
  /** Without one, deliveries carry no signature header. */
  readonly secret: string | undefined;
  readonly defaultFailureUrls: readonly string[];
  readonly consoleUrl?: string;
  readonly maxAttempts?: number;
  readonly timeoutMs?: number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
  readonly onDelivery?: (outcome: 'delivered' | 'failed') => void;
}

export interface Notifier {
  /** Sends what the run's outcome calls for; returns at once. */
  notify(job: Job, record: RunRecord): void;
  /** Resolves when every delivery under way has ended (for shutdown and tests). */
  idle(): Promise<void>;
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const emit = options.onEvent ?? (() => undefined);
  const maxAttempts = options.maxAttempts ?? 4;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const inFlight = new Set<Promise<void>>();

  async function deliver(url: string, body: string): Promise<void> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const timestamp = String(Date.now());
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'cronplane-agent',
            'x-cronplane-timestamp': timestamp,
            ...(options.secret !== undefined
              ? { 'x-cronplane-signature': signWebhook(options.secret, timestamp, body) }
              : {}),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) {
          options.onDelivery?.('delivered');
          return;
        }
        emit('notify:rejected', { url, status: response.status, attempt: attempt + 1 });
      } catch (error) {
        emit('notify:unreachable', { url, error: String(error), attempt: attempt + 1 });
      }
      if (attempt + 1 < maxAttempts) {
        await new Promise((resolve) =>
          setTimeout(
            resolve,
            backoffDelayMs(attempt, { initialDelayMs: 1_000, maxDelayMs: 30_000 }),
          ),
        );
      }
    }
    options.onDelivery?.('failed');
    emit('notify:gaveUp', { url, attempts: maxAttempts });
  }

  return {
    notify(job, record) {
      const failed = record.status !== 'succeeded';
      const urls = failed
        ? [...new Set([...job.notify.failure, ...options.defaultFailureUrls])]
        : job.notify.success;
      if (urls.length === 0) return;
      const payload: WebhookPayload = {
        event: failed ? 'run.failed' : 'run.succeeded',
        job: record.jobName,
        runId: record.runId,
        status: record.status,
        exitCode: record.exitCode,
        signal: record.signal,
        err: record.err,
        planTime: record.planTime,
        startTime: record.startTime,
        endTime: record.endTime,
        durationMs: record.endTime - record.startTime,
        agentId: record.agentId,
        host: record.host,
        outputTail: record.output.slice(-OUTPUT_TAIL_CHARS),
        consoleUrl: options.consoleUrl
          ? `${options.consoleUrl.replace(/\/$/, '')}/#/runs/${encodeURIComponent(record.runId)}`
          : null,
      };
      const body = JSON.stringify(payload);
      for (const url of urls) {
        const delivery = deliver(url, body).finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
      }
    },
    async idle() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
