/**
 * Chaos 3: an agent frozen (SIGSTOP) past its session TTL while it runs a `forbid` job, then
 * thawed (SIGCONT). etcd expires the agent's lease and another agent takes the lock over. The
 * frozen agent cannot stop its run, but its launcher (a process of its own, not frozen) stops
 * hearing of the session and kills the run when the session's safe window ends, before etcd
 * can hand the lock on.
 *
 * Checked:
 *   - lock holders never overlap in etcd: the survivor takes the lock only after the frozen
 *     agent's lease has expired;
 *   - guarded processes never overlap, from the processes' own timeline (guarantee 2 for a
 *     frozen agent too);
 *   - the thawed agent starts no run from its stale view;
 *   - no tick runs twice, no log is lost, the frozen run's real outcome (killed by the fence)
 *     replaces its `lost` record.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, waitUntil, type Stack } from '../stack/index.ts';
import { iso } from './lib/ledger.ts';
import { report, summarize } from './lib/summary.ts';
import { processOverlaps, readTimeline, timelineCommand } from './lib/timeline.ts';
import {
  closeWindow,
  describeEvents,
  everySecond,
  openWindow,
  waitForRunSince,
} from './lib/workload.ts';
import { createWorld, eventTime, sleep, type SeenEvent } from './lib/world.ts';
import { watchKeys } from './lib/key-log.ts';

const TTL_SECONDS = 3;

describe('chaos: agent frozen past its session TTL', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it(
    'hands the forbid lock over cleanly and starts nothing from the stale view on thaw',
    {
      timeout: 120_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      const timeline = join(mkdtempSync(join(tmpdir(), 'cronplane-chaos-')), 'guarded.timeline');
      await world.startAgents(['f1', 'f2'], { sessionTtlSeconds: TTL_SECONDS });
      const lockLog = await watchKeys(world.etcd, world.keys.lock('guarded'), world.prefix);
      const jobs = [
        everySecond('tick'),
        everySecond('guarded', {
          command: timelineCommand(timeline, 'sleep 12'),
          concurrency: 'forbid',
        }),
      ];
      for (const job of jobs) await world.putJob(job);
      const fromMs = openWindow();
      const first = await waitForRunSince(world, 'guarded', fromMs, 20_000);
      const victim = world.current(first.agentId);
      const survivor = world.processes.find((p) => p.agentId !== victim.agentId);
      assert.ok(survivor && victim.child.pid !== undefined);

      const frozenAt = Date.now();
      process.kill(victim.child.pid, 'SIGSTOP');
      let takeover: SeenEvent;
      try {
        // Past the TTL for sure, however recent the last keep-alive was.
        await sleep(TTL_SECONDS * 1000 + 1000);
        takeover = await waitUntil(
          () =>
            world
              .events()
              .find(
                (e) =>
                  e.event === 'run:started' &&
                  e.job === 'guarded' &&
                  e.agentId === survivor.agentId &&
                  eventTime(e) > frozenAt,
              ),
          { timeoutMs: 20_000, what: `${survivor.agentId} to take the guarded lock over` },
        );
      } finally {
        process.kill(victim.child.pid, 'SIGCONT');
      }
      const thawedAt = Date.now();
      const takeoverAt = eventTime(takeover);
      const lockHolder = await world.etcd.get(world.keys.lock('guarded')).string();

      // On thaw the victim's timers fire at once; wait until it has a new session.
      const renewed = await victim.waitForEvent(
        'session:live',
        (e) => eventTime(e) >= thawedAt,
        20_000,
      );
      const renewedAt = eventTime(renewed);
      const victimEvents = world.events().filter((e) => e.agentId === victim.agentId);
      const staleStarts = victimEvents.filter(
        (e) => e.event === 'run:started' && eventTime(e) >= thawedAt && eventTime(e) < renewedAt,
      );
      const staleOutcomes = victimEvents.filter(
        (e) =>
          eventTime(e) >= thawedAt &&
          eventTime(e) < renewedAt + 100 &&
          (e.event === 'claim:misfire' ||
            e.event === 'claim:fenced' ||
            e.event === 'claim:outcome'),
      );
      const frozenRunEnded = await victim.waitForEvent(
        'run:ended',
        (e) => e.runId === first.runId,
        20_000,
      );

      const closed = await closeWindow(world, {
        fromMs,
        jobs,
        steadyJobs: ['tick'],
      });
      const frozenRecord = closed.records.find((r) => r.runId === first.runId);
      const spans = readTimeline(timeline);
      const lostSeen = describeEvents(closed.events, 'run:lost', 4);
      const overlaps = processOverlaps(spans, Date.now());
      const overlapMs = overlaps.reduce((n, o) => n + (o.toMs - o.fromMs), 0);
      await lockLog.stop();
      const overlapAfterThawMs = overlaps.reduce(
        (n, o) => n + Math.max(0, o.toMs - Math.max(o.fromMs, thawedAt)),
        0,
      );

      const violations: string[] = [];
      if (closed.books.some((b) => b.duplicates > 0)) violations.push('a tick ran twice');
      if (staleStarts.length > 0)
        violations.push('the thawed agent started a run from a stale view');
      if (overlapMs > 0)
        violations.push(
          `guarantee 2: two guarded processes ran at once for ${overlapMs} ms, ` +
            `${overlapAfterThawMs} ms of it after the thaw (the frozen agent's run outlived its session)`,
        );
      const summary = summarize('3 agent SIGSTOP past TTL', closed.books, {
        timings: {
          freeze: thawedAt - frozenAt,
          'lock takeover after freeze': takeoverAt - frozenAt,
          'new session after thaw': renewedAt - thawedAt,
          'process overlap': overlapMs,
          'process overlap after thaw': overlapAfterThawMs,
        },
        notes: [
          `victim ${victim.agentId} frozen ${iso(frozenAt)} while running guarded ` +
            `${String(first.runId).slice(0, 8)} (tick ${iso(Number(first.planTime))}); ` +
            `${survivor.agentId} took over with tick ${iso(Number(takeover.planTime))} at ${iso(takeoverAt)}`,
          `lock at takeover: ${lockHolder ?? '(none)'}`,
          `on thaw the victim emitted ${staleOutcomes.length} claim events before its new session ` +
            `(${[...new Set(staleOutcomes.map((e) => `${e.event}${typeof e.outcome === 'string' ? `=${e.outcome}` : ''}`))].join(', ')}) ` +
            `and started ${staleStarts.length} runs`,
          `frozen run ended ${String(frozenRunEnded.status)} at ${iso(eventTime(frozenRunEnded))}, ` +
            `recorded as ${frozenRecord?.status ?? 'nothing'}`,
          ...lostSeen,
          ...lockLog
            .lines((c) => c.seenAt >= frozenAt - 2000 && c.seenAt <= thawedAt + 2000)
            .map((line) => `etcd ${line}`),
          ...overlaps.map(
            (o) =>
              `processes ${o.a.slice(0, 8)} and ${o.b.slice(0, 8)} both ran ${iso(o.fromMs)}–${iso(o.toMs)}`,
          ),
        ],
        processOverlaps: overlaps.length,
        violations,
      });
      report(summary);

      assert.equal(summary.duplicates, 0, 'no tick ran twice');
      assert.equal(summary.unrecordedSkips, 0, 'every skipped tick is covered by a skipped record');
      assert.deepEqual(closed.missing, [], 'every started run has a record');
      assert.equal(summary.duplicatedLogs, 0, 'no run recorded twice');
      assert.deepEqual(staleStarts, [], 'the thawed agent started nothing before its new session');
      assert.ok(
        takeoverAt - frozenAt >= (TTL_SECONDS - 1) * 1000,
        `the lock was taken over only once the lease could have expired (${takeoverAt - frozenAt} ms)`,
      );
      assert.ok(
        lockHolder?.includes(`"agentId":"${survivor.agentId}"`),
        'the survivor holds the lock',
      );
      assert.equal(
        overlapMs,
        0,
        `no two guarded processes ran at once (they did for ${overlapMs} ms, ${overlapAfterThawMs} ms after the thaw)`,
      );
      assert.ok(
        frozenRecord && frozenRecord.status !== 'lost',
        `the frozen run's real outcome replaced its lost record (${frozenRecord?.status})`,
      );
    },
  );
});
