/**
 * Figure 8 — API: `GET /v1/jobs` with 1,000 jobs (each with a last-run summary), p50/p99, in
 * the three ways the control plane runs: Node reading etcd and MongoDB directly, Node through
 * the relay (signed HTTP), and the Worker under `wrangler dev` (workerd) through the relay.
 * Sequential requests on one keep-alive loopback connection (fetch), after a warm-up.
 */
import { storeLastRuns } from '../../test/contract/last-runs.ts';
import {
  openApiWorld,
  TOKENS,
  type ApiMode,
  type ApiWorld,
} from '../../test/integration/api-world.ts';
import type { BenchContext } from '../lib/context.ts';
import { padded } from '../lib/jobs.ts';
import type { Row } from '../lib/report.ts';
import { distribution, fmtDistribution, type Distribution } from '../lib/stats.ts';

export const id = 8;
export const title = 'API';

const JOBS = 1_000;

async function seed(world: ApiWorld): Promise<void> {
  const names = Array.from({ length: JOBS }, (_, i) => padded('api', i, 4));
  for (let i = 0; i < names.length; i += 250) {
    await Promise.all(
      names.slice(i, i + 250).map((name) =>
        world.etcd.put(world.keys.job(name)).value(
          JSON.stringify({
            name,
            command: `echo ${name}`,
            cronExpr: '*/5 * * * *',
            labels: { team: 'bench' },
            updatedAt: Date.now(),
          }),
        ),
      ),
    );
  }
  const now = Date.now();
  await storeLastRuns(
    world.db,
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
}

async function measure(
  url: string,
  warmup: number,
  requests: number,
): Promise<{ d: Distribution; bytes: number; jobs: number }> {
  let bytes = 0;
  let jobs = 0;
  const once = async (): Promise<void> => {
    const response = await fetch(`${url}/v1/jobs`, {
      headers: { authorization: `Bearer ${TOKENS.admin}` },
      signal: AbortSignal.timeout(30_000),
    });
    const body = await response.text();
    if (response.status !== 200)
      throw new Error(`GET /v1/jobs answered ${response.status}: ${body.slice(0, 300)}`);
    bytes = body.length;
    jobs = (JSON.parse(body) as { jobs: unknown[] }).jobs.length;
  };
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  return { d: distribution(samples), bytes, jobs };
}

function firstLine(error: unknown): string {
  return (
    (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 200) ?? ''
  );
}

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const warmup = context.quick ? 5 : 30;
  const requests = context.quick ? 30 : 500;
  const rows: Row[] = [];
  const data: Record<string, unknown> = { jobs: JOBS, warmup, requests };
  const labels: Record<ApiMode, string> = {
    direct: 'Node, direct',
    relay: 'Node, through the relay',
    worker: 'Worker (wrangler dev), through the relay',
  };
  for (const mode of ['direct', 'relay', 'worker'] as const) {
    context.log(`API: GET /v1/jobs, ${labels[mode]}`);
    let world: ApiWorld | undefined;
    try {
      world = await openApiWorld(context.stack, mode);
      await seed(world);
      const { d, bytes, jobs } = await measure(world.url, warmup, requests);
      if (jobs !== JOBS) throw new Error(`listed ${jobs} jobs, expected ${JOBS}`);
      data[mode] = { ...d, bytes };
      rows.push({
        measure: `${labels[mode]}: p50 / p99 / max`,
        value: fmtDistribution(d),
        target: '—',
        verdict: 'info',
        note: `${requests} requests, ${Math.round(bytes / 1024)} KiB each`,
      });
    } catch (error) {
      data[mode] = { error: firstLine(error) };
      rows.push({
        measure: `${labels[mode]}`,
        value: 'n/a',
        target: '—',
        verdict: 'n/a',
        note: firstLine(error),
      });
    } finally {
      await world?.close().catch(() => undefined);
    }
  }
  return { rows, data };
}
