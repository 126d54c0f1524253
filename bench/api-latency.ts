/**
 * `GET /v1/jobs` latency with 1,000 jobs (each with a last-run summary): the Node control plane
 * reading etcd and MongoDB directly, the Node control plane through the relay, and the Worker
 * under `wrangler dev` (local workerd) through the same relay. Sequential requests over
 * keep-alive loopback HTTP after a warm-up; prints p50/p90/p99 per mode.
 *
 *   node --import tsx bench/api-latency.ts [--jobs 1000] [--requests 300] [--modes direct,relay,worker]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { MongoClient } from 'mongodb';
import type { DataConfig } from '../control-plane/entry/node.ts';
import { startControlPlane } from '../control-plane/entry/node.ts';
import { createKeyLayout } from '../core/keys.ts';
import { LAST_RUN_COLLECTION } from '../core/run-log.ts';
import { startRelay } from '../relay/server.ts';
import { startStack, uniqueDatabase, uniquePrefix } from '../test/stack/index.ts';
import { startWranglerDev } from '../test/stack/wrangler-dev.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '300' },
    modes: { type: 'string', default: 'direct,relay,worker' },
  },
});
const jobCount = Number(values.jobs);
const requestCount = Number(values.requests);
const WARMUP_REQUESTS = 30;
const TOKEN = 'bench-admin-token-0123456789abcdef';
const RELAY_SECRET = 'bench-relay-secret-0123456789abcdef';

function percentile(sortedMs: readonly number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] ?? NaN;
}

async function measure(url: string): Promise<{ samplesMs: number[]; bytes: number }> {
  let bytes = 0;
  const once = async () => {
    const response = await fetch(`${url}/v1/jobs`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET /v1/jobs answered ${response.status}`);
    bytes = body.byteLength;
  };
  for (let i = 0; i < WARMUP_REQUESTS; i++) await once();
  const samplesMs: number[] = [];
  for (let i = 0; i < requestCount; i++) {
    const start = performance.now();
    await once();
    samplesMs.push(performance.now() - start);
  }
  return { samplesMs: samplesMs.sort((a, b) => a - b), bytes };
}

const stack = await startStack();
try {
  const prefix = uniquePrefix();
  const database = uniqueDatabase();
  const keys = createKeyLayout(prefix);
  const etcd = new Etcd3({ hosts: stack.etcd.endpoints });
  const mongo = new MongoClient(stack.mongo.url);
  const names = Array.from({ length: jobCount }, (_, i) => `job-${String(i).padStart(4, '0')}`);
  for (let i = 0; i < names.length; i += 100) {
    await Promise.all(
      names.slice(i, i + 100).map((name) =>
        etcd.put(keys.job(name)).value(
          JSON.stringify({
            name,
            command: `echo ${name}`,
            cronExpr: '*/5 * * * *',
            labels: { team: 'bench' },
          }),
        ),
      ),
    );
  }
  const now = Date.now();
  await mongo
    .db(database)
    .collection(LAST_RUN_COLLECTION)
    .insertMany(
      names.map((jobName, i) => ({
        jobName,
        runId: `${jobName}-run`,
        status: i % 10 === 0 ? 'failed' : 'succeeded',
        planTime: now,
        startTime: now + 5,
        endTime: now + 50,
        exitCode: i % 10 === 0 ? 1 : 0,
        agentId: 'bench-agent',
      })),
    );
  etcd.close();
  await mongo.close();

  const direct = {
    etcdEndpoints: stack.etcd.endpoints,
    mongoUrl: stack.mongo.url,
    database,
    prefix,
  };
  const relay = await startRelay({ ...direct, secret: RELAY_SECRET, port: 0, host: '127.0.0.1' });
  const onNode = (data: DataConfig) => () =>
    startControlPlane({
      port: 0,
      host: '127.0.0.1',
      data,
      tokens: [{ name: 'admin', role: 'admin', token: TOKEN }],
    });
  // The Worker as it would be deployed (a `wrangler deploy --dry-run` build), under workerd.
  const onWorker = async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cronplane-bench-worker-'));
    const worker = await startWranglerDev({
      dataDir,
      vars: { RELAY_URL: relay.url, RELAY_SECRET, ADMIN_TOKEN: TOKEN },
    });
    return {
      url: worker.url,
      async stop() {
        await worker.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  };
  const allModes: [string, () => Promise<{ url: string; stop(): Promise<void> }>][] = [
    ['direct', onNode({ kind: 'direct', ...direct })],
    ['relay', onNode({ kind: 'relay', url: relay.url, secret: RELAY_SECRET })],
    ['worker', onWorker],
  ];
  const wanted = values.modes.split(',');
  const modes = allModes.filter(([mode]) => wanted.includes(mode));
  console.log(
    `GET /v1/jobs, ${jobCount} jobs with last runs, ${requestCount} sequential requests ` +
      `after ${WARMUP_REQUESTS} warm-up (${stack.mongo.kind}, Node ${process.version})`,
  );
  for (const [mode, start] of modes) {
    const controlPlane = await start();
    const { samplesMs, bytes } = await measure(controlPlane.url);
    await controlPlane.stop();
    const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(
      `${mode.padEnd(7)} p50 ${fmt(percentile(samplesMs, 50))}  p90 ${fmt(percentile(samplesMs, 90))}  ` +
        `p99 ${fmt(percentile(samplesMs, 99))}  max ${fmt(samplesMs.at(-1) ?? NaN)}  (${(bytes / 1024).toFixed(0)} KiB)`,
    );
  }
  await relay.stop();
} finally {
  await stack.stop();
}
