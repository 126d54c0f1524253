/**
 * `GET /v1/jobs` latency with 1,000 jobs (each with a last-run summary), the control plane
 * reading etcd and MongoDB directly vs through the relay. Sequential requests over keep-alive
 * loopback HTTP after a warm-up; prints p50/p90/p99 per mode.
 *
 *   node --import tsx bench/api-latency.ts [--jobs 1000] [--requests 300]
 */
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { MongoClient } from 'mongodb';
import type { DataConfig } from '../control-plane/entry/node.ts';
import { startControlPlane } from '../control-plane/entry/node.ts';
import { createKeyLayout } from '../core/keys.ts';
import { LAST_RUN_COLLECTION } from '../core/run-log.ts';
import { startRelay } from '../relay/server.ts';
import { startStack, uniqueDatabase, uniquePrefix } from '../test/stack/index.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '300' },
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
  const modes: [string, DataConfig][] = [
    ['direct', { kind: 'direct', ...direct }],
    ['relay', { kind: 'relay', url: relay.url, secret: RELAY_SECRET }],
  ];
  console.log(
    `GET /v1/jobs, ${jobCount} jobs with last runs, ${requestCount} sequential requests ` +
      `after ${WARMUP_REQUESTS} warm-up (${stack.mongo.kind}, Node ${process.version})`,
  );
  for (const [mode, data] of modes) {
    const controlPlane = await startControlPlane({
      port: 0,
      host: '127.0.0.1',
      data,
      tokens: [{ name: 'admin', role: 'admin', token: TOKEN }],
    });
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
