/**
 * Chaos 5: the agent's state dir stops taking writes.
 *   A. full: the spill dir is a 16 KiB tmpfs, and MongoDB goes down, so the spill journal grows
 *      until the disk is full (the way it happens in production: the spill is what fills it).
 *      Then MongoDB comes back. (Without mount rights, journal.jsonl points at /dev/full.)
 *   B. unwritable from the start: a second agent whose `spill` path is a plain file.
 * Either way the agent must keep running jobs and logging them (from memory), say so in its
 * health heartbeats (`spillError`), and stop saying so once the spill can be written again.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, waitUntil, type Stack } from '../stack/index.ts';
import { startHealthHub, type HealthHub } from './lib/health-hub.ts';
import { report, summarize } from './lib/summary.ts';
import { diskUsage, inspectJournal, mountTmpfs, unmount } from './lib/spill-disk.ts';
import { closeWindow, everySecond, openWindow, startedSince } from './lib/workload.ts';
import { createWorld } from './lib/world.ts';

describe('chaos: state dir full or unwritable', () => {
  let stack: Stack;
  let hub: HealthHub;
  before(async () => {
    [stack, hub] = await Promise.all([startStack(), startHealthHub()]);
  });
  after(async () => {
    await Promise.all([stack.stop(), hub.stop()]);
  });

  it(
    'keeps running and logging jobs, and reports the spill error in health until it clears',
    {
      timeout: 120_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      const health = ['--control-plane-url', hub.url, '--agent-token', hub.token];
      const fullDir = mkdtempSync(join(tmpdir(), 'cronplane-chaos-full-'));
      const spillDir = join(fullDir, 'spill');
      mkdirSync(spillDir);
      const mounted = mountTmpfs(spillDir, 16);
      if (!mounted) symlinkSync('/dev/full', join(spillDir, 'journal.jsonl'));
      const unwritableDir = mkdtempSync(join(tmpdir(), 'cronplane-chaos-unwritable-'));
      writeFileSync(join(unwritableDir, 'spill'), 'not a directory');

      try {
        const [full] = await world.startAgents(['s-full'], {
          stateDir: fullDir,
          extraArgs: health,
        });
        assert.ok(full);
        // 2 KB of output per run: a handful of records fill the 16 KiB spill.
        const output = 'echo "$CRONPLANE_RUN_ID"; head -c 2000 /dev/zero | tr "\\0" x; echo';
        const jobs = [
          everySecond('tick', { command: output }),
          everySecond('tick-forbid', { command: output, concurrency: 'forbid' }),
        ];
        for (const job of jobs) await world.putJob(job);
        const fromMs = openWindow();

        // A: healthy first, then MongoDB goes away and the spill fills the disk.
        await hub.waitForHeartbeat(
          (h) => h.agentId === 's-full' && h.spillError === null,
          15_000,
          'a healthy heartbeat from s-full',
        );
        await waitUntil(() => startedSince(world, 'tick', fromMs).length >= 2, {
          timeoutMs: 20_000,
          what: 'two runs before MongoDB goes away',
        });
        const mongoDownAt = Date.now();
        await stack.mongo.stop();
        const reported = await hub.waitForHeartbeat(
          (h) => h.agentId === 's-full' && h.spillError !== null && h.receivedAt >= mongoDownAt,
          30_000,
          'a heartbeat from s-full reporting the spill error',
        );
        // Jobs keep running while the disk is full: five more runs of tick.
        const fullTick = Math.ceil(reported.receivedAt / 1000) * 1000;
        await waitUntil(() => startedSince(world, 'tick', fullTick).length >= 5, {
          timeoutMs: 20_000,
          what: 'five runs of tick while the spill dir is full',
        });
        await stack.mongo.restart();
        const mongoBackAt = Date.now();
        // Everything spilled is written now, so the journal can be emptied and the disk is free.
        let cleared: { receivedAt: number } | undefined;
        let clearError: string | undefined;
        if (mounted) {
          cleared = await hub
            .waitForHeartbeat(
              (h) => h.agentId === 's-full' && h.spillError === null && h.receivedAt > mongoBackAt,
              20_000,
              'a heartbeat from s-full with the spill error cleared',
            )
            .catch((error: unknown) => {
              clearError = String(error);
              return undefined;
            });
        }
        const spillUsage = mounted ? diskUsage(spillDir) : 'n/a';
        const journal = mounted ? inspectJournal(join(spillDir, 'journal.jsonl')) : 'n/a';

        // B: an agent whose state dir cannot hold a journal at all.
        const unwritableStartAt = Date.now();
        const [unwritable] = await world.startAgents(['s-unwritable'], {
          stateDir: unwritableDir,
          extraArgs: health,
        });
        assert.ok(unwritable);
        const unwritableReport = await hub.waitForHeartbeat(
          (h) => h.agentId === 's-unwritable' && h.spillError !== null,
          20_000,
          'a heartbeat from s-unwritable reporting the spill error',
        );
        const unwritableRun = await unwritable.waitForEvent('run:ended', () => true, 20_000);

        const closed = await closeWindow(world, {
          fromMs,
          jobs,
          steadyJobs: ['tick'],
        });
        const runsWhileFull = closed.events.filter(
          (e) =>
            e.event === 'run:started' &&
            e.agentId === 's-full' &&
            Number(e.planTime) >= fullTick &&
            Number(e.planTime) < mongoBackAt,
        ).length;
        const stillRunning = [full, unwritable].every((a) => a.child.exitCode === null);
        const violations: string[] = [];
        if (closed.missing.length > 0) violations.push('guarantee 4: a run log was lost');
        if (!stillRunning) violations.push('an agent exited');
        if (mounted && !cleared)
          violations.push(
            'the spill error never cleared after MongoDB came back: the journal that filled the ' +
              `disk was not emptied once written (spill dir: ${spillUsage})`,
          );
        const summary = summarize('5 state dir full / unwritable', closed.books, {
          timings: {
            'MongoDB down → spill full, in health': reported.receivedAt - mongoDownAt,
            ...(cleared
              ? { 'MongoDB back → cleared in health': cleared.receivedAt - mongoBackAt }
              : {}),
            'unwritable start → reported': unwritableReport.receivedAt - unwritableStartAt,
          },
          notes: [
            mounted
              ? `spill dir on a 16 KiB tmpfs; after MongoDB came back: ${clearError ?? 'cleared'}; ` +
                `spill dir: ${spillUsage}`
              : 'no mount rights: journal.jsonl pointed at /dev/full from the start',
            `journal after MongoDB came back: ${journal}`,
            `s-full reported: ${reported.spillError}`,
            `s-unwritable reported: ${unwritableReport.spillError}`,
            `s-full started ${runsWhileFull} runs while full; s-unwritable ran ${String(unwritableRun.job)} ` +
              `(${String(unwritableRun.status)})`,
            `${hub.heartbeats.length} heartbeats, ${hub.invalidFrames} invalid frames`,
          ],
          violations,
        });
        report(summary);

        assert.deepEqual(closed.missing, [], 'every started run has a record');
        assert.equal(summary.duplicates, 0, 'no tick ran twice');
        assert.equal(
          summary.unrecordedSkips,
          0,
          'every skipped tick is covered by a skipped record',
        );
        assert.equal(summary.duplicatedLogs, 0, 'no run recorded twice');
        assert.equal(
          summary.skipReasons['not fired: no live agent attempted it'] ?? 0,
          0,
          'no tick went unattempted',
        );
        assert.ok(runsWhileFull >= 1, 'the agent kept running jobs while its disk was full');
        assert.ok(stillRunning, 'both agents are still running');
        if (mounted)
          assert.ok(cleared, `the spill error cleared once MongoDB was back: ${clearError}`);
        assert.equal(hub.invalidFrames, 0, 'every health frame follows the protocol');
      } finally {
        await world.close();
        if (mounted) unmount(spillDir);
        rmSync(fullDir, { recursive: true, force: true });
        rmSync(unwritableDir, { recursive: true, force: true });
      }
    },
  );
});
