/**
 * Chaos 2: etcd (single member) down for 20 s under a 1-second workload.
 * Agents must stop claiming (fenced), nothing may run twice after recovery, and processes that
 * were running when etcd went away follow the fencing policy: an `allow` run holds no lock and
 * finishes, its log recorded; a `forbid` run may not outlive the session its lock lives on, so
 * it is killed when the session lapses (before etcd can hand the lock on) and recorded so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../stack/index.ts';
import { watchKeys } from './lib/key-log.ts';
import { formatRanges, iso } from './lib/ledger.ts';
import { report, summarize } from './lib/summary.ts';
import { processOverlaps, readTimeline, timelineCommand } from './lib/timeline.ts';
import {
  closeWindow,
  describeEvents,
  everySecond,
  openWindow,
  waitForRunSince,
} from './lib/workload.ts';
import { createWorld, eventTime, sleep } from './lib/world.ts';

const OUTAGE_MS = 20_000;
const FENCED_ERROR = "killed: the agent's session lapsed";
const TTL_SECONDS = 3;

describe('chaos: etcd down 20 s', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it(
    'fences every agent, runs nothing twice, and logs the runs that spanned the outage',
    {
      timeout: 180_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      const timeline = join(mkdtempSync(join(tmpdir(), 'cronplane-chaos-')), 'outliving.timeline');
      const agentIds = ['e1', 'e2', 'e3'];
      await world.startAgents(agentIds, { sessionTtlSeconds: TTL_SECONDS });
      const lockLog = await watchKeys(world.etcd, world.keys.lock('outliving'), world.prefix);
      const jobs = [
        everySecond('tick'),
        everySecond('tick-forbid', { concurrency: 'forbid' }),
        // Started just before the outage and still running through its first seconds: holds no
        // lock, so it finishes.
        everySecond('spanning', { command: 'sleep 6; echo "$CRONPLANE_RUN_ID"' }),
        // Would outlive the outage: fenced when its agent's session lapses.
        everySecond('outliving', {
          command: timelineCommand(timeline, `sleep ${(OUTAGE_MS + 12_000) / 1000}`),
          concurrency: 'forbid',
        }),
      ];
      for (const job of jobs) await world.putJob(job);
      const fromMs = openWindow();
      await waitForRunSince(world, 'tick', fromMs + 3000, 20_000);
      const spanning = await waitForRunSince(world, 'spanning', fromMs, 20_000);
      const outliving = await waitForRunSince(world, 'outliving', 0, 20_000);

      // Killed, not stopped: etcd 3.6 stopped with SIGTERM keeps serving the open keep-alive
      // and watch streams while it drains, so the outage would begin some seconds after the
      // stop was asked for; a crash begins it at a known instant on every etcd.
      const outageStart = Date.now();
      await stack.etcd.kill('SIGKILL');
      const stoppedAt = Date.now();
      // The outage itself is the scenario: agents keep scheduling while etcd is gone.
      await sleep(OUTAGE_MS - (stoppedAt - outageStart));
      await stack.etcd.restart();
      const restartedAt = Date.now();
      const firstAfter = await waitForRunSince(world, 'tick', restartedAt, 30_000);
      const resumedAt = eventTime(firstAfter);
      const outlivingEnded = await world
        .current(outliving.agentId)
        .waitForEvent('run:ended', (e) => e.runId === outliving.runId, 30_000);
      // outliving is measured by its processes' timeline, not the books: retire it now (no new
      // claims once deleted) and end a second process if one was started.
      await world.deleteJob('outliving');
      await world.etcd
        .put(world.keys.killer('outliving'))
        .value(JSON.stringify({ requestedAt: Date.now() }));

      const closed = await closeWindow(world, {
        fromMs,
        jobs: jobs.filter((j) => j.name !== 'outliving'),
        steadyJobs: ['tick', 'tick-forbid'],
      });
      const { events, records, books } = closed;
      const overlaps = processOverlaps(readTimeline(timeline), Date.now());
      const overlapMs = overlaps.reduce((n, o) => n + (o.toMs - o.fromMs), 0);
      await lockLog.stop();

      // Fencing: when did each agent judge its session lost, and did any run start while fenced?
      const lostAt = agentIds.map((id) => {
        const lost = events.find(
          (e) => e.agentId === id && e.event === 'session:lost' && eventTime(e) >= outageStart,
        );
        return lost ? eventTime(lost) - outageStart : NaN;
      });
      const startedDuringOutage = events.filter(
        (e) =>
          e.event === 'run:started' &&
          eventTime(e) > outageStart + TTL_SECONDS * 1000 &&
          eventTime(e) < restartedAt,
      );
      const spanningRecord = records.find((r) => r.runId === spanning.runId);
      const tickBooks = books.find((b) => b.job === 'tick');
      const lateSkips = (tickBooks?.skipRanges ?? []).filter(
        ([, last]) => last < outageStart - 2000 || last > restartedAt + 10_000,
      );

      const violations: string[] = [];
      if (books.some((b) => b.duplicates > 0)) violations.push('a tick ran twice (guarantee 1)');
      if (closed.missing.length > 0) violations.push('a run log was lost (guarantee 4)');
      if (startedDuringOutage.length > 0)
        violations.push('a run started while etcd was down past the TTL (guarantee 3)');
      if (overlapMs > 0)
        violations.push(
          `guarantee 2: two outliving (forbid) processes ran at once for ${overlapMs} ms after etcd came back`,
        );
      if (!spanningRecord || spanningRecord.status !== 'succeeded')
        violations.push(
          `the run spanning the outage was not recorded as succeeded (${spanningRecord?.status})`,
        );
      const outlivingRecord = records.find((r) => r.runId === outliving.runId);
      const fencedWithin = eventTime(outlivingEnded) - outageStart;
      if (outlivingRecord?.err !== FENCED_ERROR || fencedWithin > TTL_SECONDS * 1000)
        violations.push(
          `the forbid run was not fenced within the TTL (${outlivingRecord?.status}: ` +
            `${outlivingRecord?.err}, ended ${fencedWithin} ms into the outage)`,
        );

      const summary = summarize('2 etcd down 20 s', books, {
        timings: {
          outage: restartedAt - outageStart,
          'etcd restart': restartedAt - stoppedAt,
          'fenced (slowest agent)': Math.max(...lostAt),
          'first run after restart': resumedAt - restartedAt,
          'log wait': closed.logWaitMs,
          'forbid process overlap': overlapMs,
        },
        notes: [
          `etcd stopped ${iso(outageStart)}, restarted ${iso(restartedAt)}; session lost after ` +
            `${lostAt.map((ms) => `${ms} ms`).join(', ')}`,
          `spanning run ${String(spanning.runId).slice(0, 8)} (tick ${iso(Number(spanning.planTime))}) ` +
            `recorded ${spanningRecord?.status ?? 'not at all'}`,
          `outliving run ${String(outliving.runId).slice(0, 8)} on ${outliving.agentId} ended ${String(outlivingEnded.status)} at ${iso(eventTime(outlivingEnded))}`,
          ...overlaps.map(
            (o) =>
              `outliving processes ${o.a.slice(0, 8)} and ${o.b.slice(0, 8)} both ran ${iso(o.fromMs)}–${iso(o.toMs)}`,
          ),
          ...(overlapMs > 0 ? lockLog.lines().map((line) => `etcd ${line}`) : []),
          ...describeEvents(events, 'run:releaseFailed', 3),
        ],
        processOverlaps: overlaps.length,
        violations,
      });
      report(summary);

      assert.equal(summary.duplicates, 0, 'no tick ran twice');
      assert.equal(summary.unrecordedSkips, 0, 'every skipped tick is covered by a skipped record');
      assert.deepEqual(closed.missing, [], 'every started run has a record');
      assert.equal(summary.duplicatedLogs, 0, 'no run recorded twice');
      assert.ok(
        lostAt.every((ms) => ms <= TTL_SECONDS * 1000 + 1000),
        `fenced within the TTL`,
      );
      assert.deepEqual(
        startedDuringOutage.map((e) => `${e.agentId} ${String(e.job)}@${iso(Number(e.planTime))}`),
        [],
        'no run started while the agents were fenced',
      );
      assert.deepEqual(
        overlaps.map((o) => `${o.a} ∩ ${o.b} ${iso(o.fromMs)}–${iso(o.toMs)}`),
        [],
        'no two processes of a forbid job ran at once',
      );
      assert.equal(spanningRecord?.status, 'succeeded', 'the run spanning the outage was logged');
      assert.deepEqual(
        { status: outlivingRecord?.status, err: outlivingRecord?.err },
        { status: 'killed', err: FENCED_ERROR },
        'the forbid run was killed when its session lapsed',
      );
      assert.ok(
        fencedWithin <= TTL_SECONDS * 1000,
        `fenced before etcd could expire the lease (${fencedWithin} ms into the outage)`,
      );
      assert.equal(spanningRecord.output, `${String(spanning.runId)}\n`);
      assert.deepEqual(
        lateSkips.map(([a, b]) => formatRanges([[a, b]])),
        [],
        'ticks were skipped only during the outage and its recovery',
      );
      assert.equal(
        summary.skipReasons['not fired: no live agent attempted it'] ?? 0,
        0,
        'every skip is visible in an agent event',
      );
    },
  );
});
