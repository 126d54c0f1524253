/**
 * The local stack: one etcd and one MongoDB-wire server, started in parallel, with their data
 * under one folder. Used by integration tests, benchmarks and `npm start`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdServer } from './etcd.ts';
import { startMongo, type MongoServer } from './mongo.ts';

export interface StackOptions {
  /** Kept on stop. Default: a fresh folder under the OS temp dir, removed on stop. */
  readonly dataDir?: string;
}

export interface Stack extends AsyncDisposable {
  readonly etcd: EtcdServer;
  readonly mongo: MongoServer;
  readonly dataDir: string;
  /** Stops both servers; removes the data folder if the stack created it. Idempotent. */
  stop(): Promise<void>;
}

export class StackStartError extends Error {
  readonly code = 'stack_start_failed';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StackStartError';
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cronplane-stack-')));
  await mkdir(dataDir, { recursive: true });

  const [etcd, mongo] = await Promise.allSettled([
    startEtcd({ dataDir: join(dataDir, 'etcd') }),
    startMongo({ dataDir: join(dataDir, 'mongo') }),
  ]);
  if (etcd.status === 'rejected' || mongo.status === 'rejected') {
    const started = [etcd, mongo].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await Promise.allSettled(started.map((server) => server.stop()));
    const failures = [etcd, mongo].flatMap((r) =>
      r.status === 'rejected' ? [r.reason as unknown] : [],
    );
    // The data folder is kept on failure: its logs are the evidence.
    const message = failures.map((e) => (e instanceof Error ? e.message : String(e))).join('\n\n');
    throw new StackStartError(
      `the local stack did not start (data and logs kept in ${dataDir}):\n${message}`,
      {
        cause: failures[0],
      },
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const results = await Promise.allSettled([etcd.value.stop(), mongo.value.stop()]);
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      const failure = results.find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
    })();
    return stopping;
  };

  return {
    etcd: etcd.value,
    mongo: mongo.value,
    dataDir,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
