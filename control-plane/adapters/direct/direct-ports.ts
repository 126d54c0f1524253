/**
 * The direct data ports: one etcd client and one pooled MongoDB client behind the job store, the
 * run-log reader and the worker directory. Used by the Node control plane and by the relay.
 */
import { Etcd3 } from 'etcd3';
import { MongoClient } from 'mongodb';
import { CronplaneError } from '../../../core/errors.ts';
import { createKeyLayout } from '../../../core/keys.ts';
import type { DataAdapter } from '../../ports.ts';
import {
  createEtcdJobStore,
  DEFAULT_KILL_TTL_SECONDS,
  DEFAULT_MANUAL_CLAIM_TIMEOUT_MS,
  DEFAULT_MANUAL_TTL_SECONDS,
} from './etcd-job-store.ts';
import { createEtcdWorkerDirectory } from './etcd-worker-directory.ts';
import { createDirectHealthProbe } from './health-probe.ts';
import { createMongoRunLogReader } from './mongo-run-log-reader.ts';

export interface DirectConfig {
  readonly etcdEndpoints: readonly string[];
  readonly mongoUrl: string;
  readonly database: string;
  readonly prefix: string;
  readonly killTtlSeconds?: number;
  readonly manualClaimTimeoutMs?: number;
}

/** Bounds every etcd call and MongoDB server selection so an outage answers 503, not a hang. */
const REQUEST_TIMEOUT_MS = 5000;
const DATABASE_NAME = /^[A-Za-z0-9_-]{1,63}$/;

export function createDirectPorts(config: DirectConfig): DataAdapter {
  const layout = createKeyLayout(config.prefix);
  if (!DATABASE_NAME.test(config.database)) {
    throw new CronplaneError('invalid_config', `database name "${config.database}" is not valid`);
  }
  if (config.etcdEndpoints.length === 0) {
    throw new CronplaneError('invalid_config', 'at least one etcd endpoint is required');
  }
  const etcd = new Etcd3({
    hosts: [...config.etcdEndpoints],
    dialTimeout: REQUEST_TIMEOUT_MS,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + REQUEST_TIMEOUT_MS },
  });
  let mongo: MongoClient;
  try {
    mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: REQUEST_TIMEOUT_MS });
  } catch (error) {
    etcd.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new CronplaneError('invalid_config', `MongoDB URL is not valid: ${reason}`);
  }
  const db = mongo.db(config.database);
  return {
    jobs: createEtcdJobStore(etcd, layout, {
      killTtlSeconds: config.killTtlSeconds ?? DEFAULT_KILL_TTL_SECONDS,
      manualTtlSeconds: DEFAULT_MANUAL_TTL_SECONDS,
      manualClaimTimeoutMs: config.manualClaimTimeoutMs ?? DEFAULT_MANUAL_CLAIM_TIMEOUT_MS,
    }),
    runLogs: createMongoRunLogReader(db),
    workers: createEtcdWorkerDirectory(etcd, layout),
    health: createDirectHealthProbe(etcd, layout, db),
    async close() {
      etcd.close();
      await mongo.close();
    },
  };
}
