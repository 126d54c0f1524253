/**
 * Minimal regression tests for the guarantee violations the chaos scenarios found. Each fails
 * on the code as it was when written, and says in its name what the agent should do instead.
 * Run alone: node --import tsx --test test/chaos/regressions.chaos.ts
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, waitUntil, type Stack } from '../stack/index.ts';
import { iso } from './lib/ledger.ts';
import { availableKb, diskUsage, inspectJournal, mountTmpfs, unmount } from './lib/spill-disk.ts';
import { isAlive, processOverlaps, readTimeline, timelineCommand } from './lib/timeline.ts';
import { everySecond, startedSince, waitForRunSince } from './lib/workload.ts';
import { createWorld, eventTime, sleep, type World } from './lib/world.ts';

const TTL_SECONDS = 2;

function timelineFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'cronplane-chaos-')), 'job.timeline');
}

/** Ends every run of a job and removes it, so nothing outlives the test. */
async function retire(world: World, job: string): Promise<void> {
  await world.deleteJob(job);
  await world.etcd.put(world.keys.killer(job)).value(JSON.stringify({ requestedAt: Date.now() }));
}

describe('chaos regressions', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  // Guarantee 2. The run's lock lives on the session lease. When etcd is unreachable for longer
  // than the TTL the agent drops that lease locally (session → lost) but lets the run go on;
  // etcd, back, restores the lease for one more TTL and then expires it, the lock vanishes, and
  // the next tick starts a second process while the first still runs.
  it(
    'does not start a second run of a forbid job while the first outlives an etcd outage',
    {
      timeout: 90_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      const timeline = timelineFile();
      await world.startAgents(['g1', 'g2'], { sessionTtlSeconds: TTL_SECONDS });
      await world.putJob(
        everySecond('outliving', {
          command: timelineCommand(timeline, 'sleep 12'),
          concurrency: 'forbid',
        }),
      );
      const first = await waitForRunSince(world, 'outliving', 0, 20_000);
      await stack.etcd.stop();
      await sleep(TTL_SECONDS * 1000 + 3000); // the outage is the point: longer than the TTL
      await stack.etcd.restart();
      await world
        .current(first.agentId)
        .waitForEvent('run:ended', (e) => e.runId === first.runId, 30_000);
      await retire(world, 'outliving');
      const overlaps = processOverlaps(readTimeline(timeline), Date.now());
      assert.deepEqual(
        overlaps.map(
          (o) => `${o.a.slice(0, 8)} ∩ ${o.b.slice(0, 8)} ${iso(o.fromMs)}–${iso(o.toMs)}`,
        ),
        [],
        'two processes of the forbid job ran at once',
      );
    },
  );

  // Guarantee 2. A frozen agent cannot stop its processes, and etcd rightly hands its lock to
  // another agent once its lease expires. But once thawed, the agent knows its session was lost
  // and lets the orphaned forbid run go on to its natural end, overlapping the new holder's run.
  it(
    'ends a forbid run whose lock was taken over as soon as its frozen agent is thawed',
    {
      timeout: 90_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      await world.startAgents(['h1', 'h2'], { sessionTtlSeconds: TTL_SECONDS });
      await world.putJob(
        everySecond('guarded', { command: 'sleep 12; echo done', concurrency: 'forbid' }),
      );
      const first = await waitForRunSince(world, 'guarded', 0, 20_000);
      const victim = world.current(first.agentId);
      const pid = victim.child.pid;
      assert.ok(pid !== undefined);
      const frozenAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(TTL_SECONDS * 1000 + 1000);
        await world.waitForAnyEvent(
          'run:started',
          (e) => e.job === 'guarded' && e.agentId !== victim.agentId && eventTime(e) > frozenAt,
          15_000,
        );
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const thawedAt = Date.now();
      const ended = await victim.waitForEvent('run:ended', (e) => e.runId === first.runId, 20_000);
      await retire(world, 'guarded');
      const afterThawMs = eventTime(ended) - thawedAt;
      assert.ok(
        afterThawMs <= 2000,
        `the orphaned run ended ${afterThawMs} ms after the thaw (${String(ended.status)}); ` +
          'it should be ended at once',
      );
    },
  );

  // Guarantee 2 ("a crashed agent frees [the lock] within the lease TTL"). The executor starts
  // each job in its own process group and nothing ties it to the agent's life: when the agent
  // dies, its job processes run on. The lock goes with the lease after the TTL, and the next run
  // of the forbid job starts beside the orphan.
  it(
    'does not start a forbid job beside the process its crashed agent left running',
    {
      timeout: 90_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      const timeline = timelineFile();
      await world.startAgents(['o1', 'o2'], { sessionTtlSeconds: TTL_SECONDS });
      await world.putJob(
        everySecond('orphaned', {
          command: timelineCommand(timeline, 'sleep 10'),
          concurrency: 'forbid',
        }),
      );
      const first = await waitForRunSince(world, 'orphaned', 0, 20_000);
      const orphan = await waitUntil(
        () => readTimeline(timeline).find((span) => span.runId === first.runId),
        { timeoutMs: 5_000, what: 'the first run in the timeline' },
      );
      const victim = world.current(first.agentId);
      await victim.stop('SIGKILL');
      const next = await world
        .waitForAnyEvent(
          'run:started',
          (e) => e.job === 'orphaned' && e.agentId !== victim.agentId,
          15_000,
        )
        .catch(() => undefined);
      const orphanAliveAtNext = next !== undefined && isAlive(orphan.pid);
      await retire(world, 'orphaned');
      if (isAlive(orphan.pid)) process.kill(-orphan.pid, 'SIGKILL');
      assert.ok(
        !orphanAliveAtNext,
        `the next run (${String(next?.runId).slice(0, 8)} on ${next?.agentId}) started while ` +
          `the crashed agent's run ${String(first.runId).slice(0, 8)} (pid ${orphan.pid}) still ran`,
      );
    },
  );

  // "A run whose agent died is marked lost." Lost runs are recognised by the worker key and the
  // running key vanishing in one revision (lease expiry). An agent restarted at once with the same
  // id re-registers on a new lease first, so when the old lease expires only the running keys go,
  // nobody records the run, and its log is lost for good.
  it(
    'records a run lost when its agent crashes and restarts with the same id within the TTL',
    {
      timeout: 90_000,
    },
    async () => {
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      await world.startAgents(['c1', 'c2'], { sessionTtlSeconds: TTL_SECONDS });
      await world.putJob(everySecond('long', { command: 'sleep 4; echo done' }));
      const victimRun = await waitForRunSince(world, 'long', 0, 20_000);
      const runId = String(victimRun.runId);
      const victim = world.current(victimRun.agentId);
      await victim.stop('SIGKILL');
      await world
        .startAgent(victim.agentId, { sessionTtlSeconds: TTL_SECONDS, stateDir: victim.stateDir })
        .waitForEvent('agent:ready', () => true, 20_000);
      await world.deleteJob('long');
      const record = await waitUntil(
        async () => (await world.runs('long')).find((r) => r.runId === runId),
        { timeoutMs: (TTL_SECONDS + 10) * 1000, what: `a record (lost) of run ${runId}` },
      ).catch(() => undefined);
      assert.equal(record?.status, 'lost', 'the crashed run is recorded as lost');
    },
  );

  describe('spill journal on a full disk (root only: mounts a 16 KiB tmpfs)', () => {
    let stateDir: string;
    let spillDir: string;
    let mounted = false;
    before(() => {
      stateDir = mkdtempSync(join(tmpdir(), 'cronplane-chaos-spill-'));
      spillDir = join(stateDir, 'spill');
      mkdirSync(spillDir);
    });
    after(() => {
      if (mounted) unmount(spillDir);
      rmSync(stateDir, { recursive: true, force: true });
    });

    /** MongoDB goes down until the spill has filled the disk and `runsWhileFull` more runs ended. */
    async function fillSpillDisk(
      world: World,
      runsWhileFull: number,
    ): Promise<{ journal: string; lastRunId: string | undefined }> {
      await world.putJob(
        everySecond('spilling', {
          command: 'echo "$CRONPLANE_RUN_ID"; head -c 2000 /dev/zero | tr "\\0" x; echo',
        }),
      );
      await waitForRunSince(world, 'spilling', 0, 20_000);
      await stack.mongo.stop();
      try {
        // Full once the agent says an append failed (a short write is undone, so the disk
        // keeps a few free bytes rather than a cut line).
        const file = join(spillDir, 'journal.jsonl');
        await world.waitForAnyEvent('log:spillFailed', () => true, 30_000);
        const fullAt = Date.now();
        await waitUntil(
          () =>
            world.events().filter((e) => e.event === 'run:ended' && eventTime(e) > fullAt).length >=
            runsWhileFull,
          { timeoutMs: 20_000, what: `${runsWhileFull} runs to end while the disk is full` },
        );
        // Read before MongoDB is back: the agent then renames the journal for replay.
        const lastRunId = /"runId":"([^"]+)"[^\n]*$/.exec(readFileSync(file, 'utf8'))?.[1];
        return { journal: inspectJournal(file), lastRunId };
      } finally {
        await stack.mongo.restart();
      }
    }

    // Guarantee 4 (across restarts). SpillJournal.clear() returns early when the write that hit
    // ENOSPC has closed its fd, so the journal that filled the disk is never truncated: every
    // later append fails, the agent reports spillError forever, and from then on every record
    // lives in memory only — a crash loses them.
    it(
      'empties the spill journal that filled the disk once its records are written',
      {
        timeout: 120_000,
      },
      async (t) => {
        mounted = mounted || mountTmpfs(spillDir, 16);
        if (!mounted) {
          t.skip('cannot mount a tmpfs here (needs root)');
          return;
        }
        await using world = createWorld({
          etcdEndpoints: stack.etcd.endpoints,
          mongoUrl: stack.mongo.url,
        });
        await world.startAgents(['j1'], { sessionTtlSeconds: TTL_SECONDS, stateDir });
        await fillSpillDisk(world, 2);
        const { missing } = await world.waitForLogs(30_000);
        assert.deepEqual(missing, [], 'every run was logged from memory');
        const freed = await waitUntil(() => availableKb(spillDir) > 0, {
          timeoutMs: 10_000,
          what: 'the spill disk to have room again',
        }).catch(() => false);
        const journal = inspectJournal(join(spillDir, 'journal.jsonl'));
        await retire(world, 'spilling');
        assert.ok(
          freed,
          `the journal was emptied once written (${diskUsage(spillDir)}; journal ${journal})`,
        );
      },
    );

    // Guarantee 4. writeSync's return value is ignored: on a nearly full disk it writes part of
    // the line and returns a short count instead of throwing, so append() reports the record as
    // journaled. Past logMaxBufferedRecords such a record lives only in the journal, where it is
    // a cut line that replay skips: the record is lost.
    it(
      'does not lose a record whose spill write a full disk cut short',
      {
        timeout: 120_000,
      },
      async (t) => {
        mounted = mounted || mountTmpfs(spillDir, 16);
        if (!mounted) {
          t.skip('cannot mount a tmpfs here (needs root)');
          return;
        }
        rmSync(join(spillDir, 'journal.jsonl'), { force: true });
        await using world = createWorld({
          etcdEndpoints: stack.etcd.endpoints,
          mongoUrl: stack.mongo.url,
        });
        await world.startAgents(['j2'], {
          sessionTtlSeconds: TTL_SECONDS,
          stateDir,
          extraArgs: ['--log-max-buffered-records', '1'],
        });
        const { journal, lastRunId } = await fillSpillDisk(world, 3);
        const { missing } = await world.waitForLogs(30_000);
        const started = startedSince(world, 'spilling', 0).length;
        await retire(world, 'spilling');
        assert.deepEqual(
          missing,
          [],
          `every one of ${started} runs has a record (journal when full: ${journal}; ` +
            `its last line is run ${lastRunId})`,
        );
      },
    );
  });
});
