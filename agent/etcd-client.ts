/**
 * The agent's etcd client, with the fault handling the library's defaults lack: a deadline on
 * every unary call (the default has none; a put was seen stalling 7 s during a member restart),
 * a short circuit breaker, and a watch reconnect backoff capped at a few seconds (default 30 s).
 */
import { readFileSync } from 'node:fs';
import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IBackoff,
} from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';

export interface EtcdClientOptions {
  readonly endpoints: readonly string[];
  readonly username?: string;
  readonly password?: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly callDeadlineMs?: number;
}

export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  const deadlineMs = options.callDeadlineMs ?? 3_000;
  const recoverable = handleWhen(isRecoverableError);
  const config: IOptions = {
    hosts: [...options.endpoints],
    dialTimeout: deadlineMs,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + deadlineMs },
    faultHandling: {
      // With one member the breaker would refuse every call for its whole half-open delay after
      // a blip; keep it short so a recovered etcd is used again within a second.
      host: () =>
        circuitBreaker(recoverable, { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
      global: wrap(retry(recoverable, { maxAttempts: 1 })),
      // etcd3 types this slot as a backoff but calls `.next()` on it to start over, i.e. it
      // wants the factory (its own docs pass `new ExponentialBackoff()`).
      watchBackoff: new ExponentialBackoff({
        initialDelay: 100,
        maxDelay: 2_000,
      }) as unknown as IBackoff<unknown>,
    },
  };
  if (options.username !== undefined && options.password !== undefined) {
    config.auth = { username: options.username, password: options.password };
  }
  if (options.caFile !== undefined) {
    config.credentials = {
      rootCertificate: readFileSync(options.caFile),
      ...(options.keyFile !== undefined ? { privateKey: readFileSync(options.keyFile) } : {}),
      ...(options.certFile !== undefined ? { certChain: readFileSync(options.certFile) } : {}),
    };
  }
  return new Etcd3(config);
}
