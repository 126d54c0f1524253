/**
 * Chaos 1: a three-member etcd cluster whose leader is killed (SIGKILL) under a workload of
 * 1-second jobs; agents know all three endpoints. Runs must resume after the election, no tick
 * may run twice, and ticks may be skipped only around the election, each with a reason.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMongo, type MongoServer } from '../stack/index.ts';
import { startEtcdCluster, type EtcdCluster } from './lib/etcd-cluster.ts';
import { NOT_FIRED, formatRanges, iso } from './lib/ledger.ts';
import { report, summarize } from './lib/summary.ts';
import {
  QUICK,
  closeWindow,
  describeEvents,
  everySecond,
  openWindow,
  startedSince,
  waitForRunSince,
} from './lib/workload.ts';
import { createWorld, eventTime } from './lib/world.ts';

const KILLS = QUICK ? 1 : 2;
/** Ticks this long before a kill or after the new leader may be skipped. */
const SKIP_MARGIN_BEFORE_MS = 1_000;
const SKIP_MARGIN_AFTER_MS = 5_000;

describe('chaos: etcd leader killed in a three-member cluster', () => {
  let dataDir: string;
  let cluster: EtcdCluster;
  let mongo: MongoServer;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cronplane-chaos-cluster-'));
    [cluster, mongo] = await Promise.all([
      startEtcdCluster({ dataDir: join(dataDir, 'etcd') }),
      startMongo({ dataDir: join(dataDir, 'mongo') }),
    ]);
  });
  after(async () => {
    await Promise.all([cluster.stop(), mongo.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'resumes after the election, runs nothing twice, skips only around it',
    {
      timeout: 180_000,
    },
    async () => {
      await using world = createWorld({ etcdEndpoints: cluster.endpoints, mongoUrl: mongo.url });
      const agentIds = ['k1', 'k2', 'k3'];
      await world.startAgents(agentIds, {
        sessionTtlSeconds: 3,
        etcdEndpoints: cluster.endpoints,
      });
      const jobs = [
        everySecond('tick'),
        everySecond('tick-forbid', { concurrency: 'forbid' }),
        everySecond('busy', { command: 'sleep 0.5; echo "$CRONPLANE_RUN_ID"' }),
      ];
      for (const job of jobs) await world.putJob(job);
      const fromMs = openWindow();
      await waitForRunSince(world, 'tick', fromMs + 2000, 20_000);

      const kills: {
        leader: string;
        killAt: number;
        electedMs: number;
        newLeader: string;
        resumedMs: number;
      }[] = [];
      for (let round = 0; round < KILLS; round++) {
        const leader = await cluster.leader();
        const killAt = Date.now();
        await cluster.kill(leader.name);
        const newLeader = await cluster.leader(20_000);
        const electedAt = Date.now();
        // Resumed: a tick after the kill ran, claimed through the new leader.
        const resumed = await waitForRunSince(
          world,
          'tick',
          Math.ceil(electedAt / 1000) * 1000,
          20_000,
        );
        kills.push({
          leader: leader.name,
          killAt,
          electedMs: electedAt - killAt,
          newLeader: newLeader.name,
          resumedMs: eventTime(resumed) - killAt,
        });
        await cluster.restart(leader.name);
        await cluster.waitHealthy();
        // Steady again before the next kill.
        await waitForRunSince(world, 'tick', Date.now() + 2000, 20_000);
      }

      const closed = await closeWindow(world, {
        fromMs,
        jobs,
        steadyJobs: ['tick', 'tick-forbid'],
      });
      const allowed = (tick: number): boolean =>
        kills.some(
          (k) =>
            tick >= k.killAt - SKIP_MARGIN_BEFORE_MS &&
            tick <= k.killAt + k.electedMs + SKIP_MARGIN_AFTER_MS,
        );
      const strays = closed.books.flatMap((b) =>
        b.skipRanges
          .filter(([first, last]) => !allowed(first) || !allowed(last))
          .map((range) => `${b.job} ${formatRanges([range])}`),
      );
      const unexplained = closed.books.reduce((n, b) => n + (b.skipReasons[NOT_FIRED] ?? 0), 0);
      const sessionLosses = closed.events.filter((e) => e.event === 'session:lost');

      const violations: string[] = [];
      if (closed.books.some((b) => b.duplicates > 0))
        violations.push('guarantee 1: a tick ran twice');
      if (closed.missing.length > 0) violations.push('guarantee 4: a run log was lost');
      if (strays.length > 0)
        violations.push(`ticks skipped outside the election window: ${strays.join('; ')}`);
      const summary = summarize('1 etcd leader killed (3 members)', closed.books, {
        timings: {
          'election (max)': Math.max(...kills.map((k) => k.electedMs)),
          'kill → first run after election (max)': Math.max(...kills.map((k) => k.resumedMs)),
        },
        notes: [
          ...kills.map(
            (k) =>
              `killed leader ${k.leader} at ${iso(k.killAt)}; ${k.newLeader} led after ${k.electedMs} ms; ` +
              `runs resumed ${k.resumedMs} ms after the kill`,
          ),
          `${sessionLosses.length} agent sessions judged lost during the kills`,
          ...describeEvents(closed.events, 'session:lostReason', 3),
          `${startedSince(world, 'tick', fromMs).length} runs of tick in all`,
        ],
        violations,
      });
      report(summary);

      assert.equal(summary.duplicates, 0, 'no tick ran twice');
      assert.equal(summary.unrecordedSkips, 0, 'every skipped tick is covered by a skipped record');
      assert.deepEqual(closed.missing, [], 'every started run has a record');
      assert.equal(summary.duplicatedLogs, 0, 'no run recorded twice');
      assert.deepEqual(strays, [], 'ticks were skipped only around the election');
      assert.equal(unexplained, 0, 'every skipped tick is explained by an agent event');
    },
  );
});
