/**
 * Chaos 7: agents restarted one at a time under load, first gracefully (SIGTERM, as a deploy
 * does), then by crashing them (SIGKILL, as the OOM killer does) and starting them again at once
 * with the same id and state dir (as systemd's Restart=always does). The fleet must run no tick
 * twice, leave no skip unexplained, and log every run — a run whose agent died as `lost`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../stack/index.ts';
import { NOT_FIRED, iso } from './lib/ledger.ts';
import { report, summarize } from './lib/summary.ts';
import { processOverlaps, readTimeline, timelineCommand } from './lib/timeline.ts';
import { QUICK, closeWindow, everySecond, openWindow, waitForRunSince } from './lib/workload.ts';
import { createWorld, eventTime } from './lib/world.ts';

const TTL_SECONDS = 3;
const AGENTS = ['r1', 'r2', 'r3'];
const ROUNDS: readonly ('SIGTERM' | 'SIGKILL')[] = QUICK
  ? ['SIGTERM', 'SIGKILL']
  : ['SIGTERM', 'SIGKILL', 'SIGTERM', 'SIGKILL'];

describe('chaos: rolling restarts under load', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it(
    'runs no tick twice and logs every run while agents restart one by one',
    {
      timeout: 300_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      const timeline = join(mkdtempSync(join(tmpdir(), 'cronplane-chaos-')), 'guarded.timeline');
      const options = { sessionTtlSeconds: TTL_SECONDS };
      await world.startAgents(AGENTS, options);
      const jobs = [
        everySecond('tick'),
        everySecond('tick-forbid', { concurrency: 'forbid' }),
        // Always a run in flight somewhere, so restarts catch runs mid-way.
        everySecond('busy', { command: 'sleep 2; echo "$CRONPLANE_RUN_ID"' }),
        everySecond('guarded', {
          command: timelineCommand(timeline, 'sleep 3'),
          concurrency: 'forbid',
        }),
      ];
      for (const job of jobs) await world.putJob(job);
      const fromMs = openWindow();
      await waitForRunSince(world, 'tick', fromMs, 20_000);

      const restarts: { agentId: string; signal: string; downAt: number; readyMs: number }[] = [];
      const orphaned: string[] = [];
      for (const signal of ROUNDS) {
        for (const agentId of AGENTS) {
          const old = world.current(agentId);
          const downAt = Date.now();
          await old.stop(signal);
          if (signal === 'SIGKILL') {
            const started = old.events.filter((e) => e.event === 'run:started').map((e) => e.runId);
            const ended = new Set(
              old.events.filter((e) => e.event === 'run:ended').map((e) => e.runId),
            );
            orphaned.push(...started.filter((id) => !ended.has(id)).map(String));
          }
          const next = world.startAgent(agentId, { ...options, stateDir: old.stateDir });
          const ready = await next.waitForEvent('agent:ready', () => true, 30_000);
          restarts.push({ agentId, signal, downAt, readyMs: eventTime(ready) - downAt });
          // Under load: the fleet runs a tick after this restart before the next one goes down.
          await waitForRunSince(world, 'tick', eventTime(ready) + 1000, 20_000);
        }
      }

      const closed = await closeWindow(world, {
        fromMs,
        jobs,
        steadyJobs: ['tick', 'tick-forbid'],
      });
      const overlaps = processOverlaps(readTimeline(timeline), Date.now());
      const unexplained = closed.books.reduce((n, b) => n + (b.skipReasons[NOT_FIRED] ?? 0), 0);
      const orphanRecords = closed.records.filter((r) => orphaned.includes(r.runId));

      const violations: string[] = [];
      if (closed.books.some((b) => b.duplicates > 0))
        violations.push('guarantee 1: a tick ran twice');
      if (closed.missing.length > 0)
        violations.push(
          `guarantee 4 / lost runs: ${closed.missing.length} runs started by a crashed agent were ` +
            'never recorded, not even as lost',
        );
      if (overlaps.length > 0)
        violations.push(`guarantee 2: ${overlaps.length} overlapping guarded (forbid) processes`);
      const byKind = (signal: string): number[] =>
        restarts.filter((r) => r.signal === signal).map((r) => r.readyMs);
      const summary = summarize('7 rolling restarts', closed.books, {
        timings: {
          'SIGTERM → ready again (max)': Math.max(0, ...byKind('SIGTERM')),
          'SIGKILL → ready again (max)': Math.max(0, ...byKind('SIGKILL')),
          'log wait': closed.logWaitMs,
        },
        notes: [
          `${restarts.length} restarts (${ROUNDS.join(', ')} rounds over ${AGENTS.join(', ')})`,
          `${orphaned.length} runs were in flight when their agent was SIGKILLed; ` +
            `${orphanRecords.length} of them have a record ` +
            `(${orphanRecords.map((r) => r.status).join(', ') || 'none'})`,
          ...closed.missing.map((runId) => {
            const started = closed.events.find(
              (e) => e.event === 'run:started' && e.runId === runId,
            );
            return (
              `never recorded: ${runId.slice(0, 8)} ${String(started?.job)}@` +
              `${iso(Number(started?.planTime))} on ${started?.agentId}#${started?.life}`
            );
          }),
          ...overlaps.map(
            (o) =>
              `guarded processes ${o.a.slice(0, 8)} and ${o.b.slice(0, 8)} both ran ${iso(o.fromMs)}–${iso(o.toMs)}`,
          ),
        ],
        processOverlaps: overlaps.length,
        violations,
      });
      report(summary);

      assert.equal(summary.duplicates, 0, 'no tick ran twice');
      assert.equal(summary.unrecordedSkips, 0, 'every skipped tick is covered by a skipped record');
      assert.equal(summary.duplicatedLogs, 0, 'no run recorded twice');
      assert.equal(unexplained, 0, 'every skipped tick is explained by an agent event');
      assert.deepEqual(closed.missing, [], 'every started run has a record, if only as lost');
      assert.deepEqual(overlaps, [], 'no two guarded processes ran at once');
    },
  );
});
