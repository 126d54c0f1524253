/**
 * The executor contract (agent/executor.ts, launcher/README.md): what every way of running a
 * command must do, with real shells and real processes. Run against the launcher and the Node
 * fallback alike by executors.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import type { ExecuteOptions, Executor } from '../../agent/executor.ts';

export interface ExecutorUnderTest {
  readonly executor: Executor;
  /** Kills the executor's own process (the launcher), if it has one. */
  readonly crash?: () => void;
}

const BASE: ExecuteOptions = {
  shell: '/bin/bash',
  command: 'true',
  env: {},
  maxOutputBytes: 64 * 1024,
  timeoutMs: 0,
  killGraceMs: 2_000,
  drainAfterExitMs: 300,
  fenced: false,
};

/** Every live process whose process group is `pgid` (zombies count as gone). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name, which is in parentheses and may hold spaces.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
  }
  return members;
}

/**
 * A SIGKILL is delivered after kill() returns: wait (bounded) until no process of the group is
 * left. /proc has no event for it.
 */
async function groupGone(pgid: number, timeoutMs = 2_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let members = groupMembers(pgid);
  while (members.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    members = groupMembers(pgid);
  }
  return members;
}

/** Resolves once `pid` has installed a handler for SIGTERM (a shell's `trap` ran), bounded. */
async function catchesSigterm(pid: number, timeoutMs = 5_000): Promise<void> {
  const SIGTERM_BIT = 1n << 14n;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const caught = BigInt(`0x${/SigCgt:\s*([0-9a-f]+)/.exec(status)?.[1] ?? '0'}`);
    if ((caught & SIGTERM_BIT) !== 0n) return;
    if (Date.now() > deadline) assert.fail(`process ${pid} never trapped SIGTERM`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function executorContract(open: () => Promise<ExecutorUnderTest>): void {
  async function run(options: Partial<ExecuteOptions>) {
    const { executor } = await open();
    const execution = executor.execute({ ...BASE, ...options });
    return { execution, result: await execution.done, started: await execution.started };
  }

  it('reports a zero exit as succeeded, with stdout and stderr together', async () => {
    const { result, started } = await run({ command: 'echo out; echo err >&2' });
    assert.equal(result.kind, 'exited');
    assert.equal(result.exitCode, 0);
    assert.equal(result.signal, null);
    assert.equal(result.error, '');
    assert.deepEqual(result.output.split('\n').sort(), ['', 'err', 'out']);
    assert.ok(started && started.pid > 0, 'a started run has a pid');
    assert.ok(result.startTime <= result.endTime);
    assert.ok(Math.abs(result.startTime - Date.now()) < 10_000, 'times are epoch milliseconds');
  });

  it('reports a non-zero exit code', async () => {
    const { result } = await run({ command: 'exit 3' });
    assert.equal(result.kind, 'exited');
    assert.equal(result.exitCode, 3);
    assert.equal(result.error, 'exit code 3');
  });

  it('reports the signal a shell died of', async () => {
    const { result } = await run({ command: 'kill -TERM $$' });
    assert.equal(result.kind, 'exited');
    assert.equal(result.exitCode, null);
    assert.equal(result.signal, 'SIGTERM');
    assert.equal(result.error, 'terminated by SIGTERM');
  });

  it('keeps the head and the tail of output past the cap, and says how much it left out', async () => {
    const { result } = await run({
      command: "printf HEAD; head -c 10000 /dev/zero | tr '\\0' x; printf TAIL",
      maxOutputBytes: 1024,
    });
    assert.equal(result.outputTruncated, true);
    const marker = '\n[… 8984 bytes of output truncated by cronplane …]\n';
    assert.ok(
      result.output.startsWith(`HEAD${'x'.repeat(508)}${marker}`),
      result.output.slice(0, 600),
    );
    assert.ok(result.output.endsWith(`${'x'.repeat(508)}TAIL`));
    assert.equal(result.output.length, 1024 + marker.length);
  });

  it('keeps output at the cap exactly, untruncated', async () => {
    const { result } = await run({
      command: "head -c 1024 /dev/zero | tr '\\0' y",
      maxOutputBytes: 1024,
    });
    assert.equal(result.outputTruncated, false);
    assert.equal(result.output, 'y'.repeat(1024));
  });

  it("adds the run's environment to the agent's, and runs in the cwd asked for", async () => {
    const { result } = await run({
      command: 'echo "$CRONPLANE_JOB|$CONTRACT_INHERITED|$(pwd)"',
      env: { CRONPLANE_JOB: 'backup' },
      cwd: '/tmp',
    });
    assert.equal(result.output, 'backup|from the agent|/tmp\n');
  });

  it('closes stdin, so a command reading it ends at once', async () => {
    const { result } = await run({ command: 'cat; echo "read ended: $?"' });
    assert.equal(result.output, 'read ended: 0\n');
  });

  it('fails to start with a missing shell, saying why', async () => {
    const { result, started } = await run({ shell: '/nonexistent/bash' });
    assert.equal(result.kind, 'spawn-failed');
    assert.equal(started, null);
    assert.match(result.error, /^failed to start: /);
  });

  it('fails to start in a missing directory, saying why', async () => {
    const { result, started } = await run({ cwd: '/nonexistent/dir' });
    assert.equal(result.kind, 'spawn-failed');
    assert.equal(started, null);
    assert.match(result.error, /^failed to start: /);
  });

  it('times out: SIGTERM to the group, then SIGKILL after the grace', async () => {
    const { result } = await run({
      // The shell ignores SIGTERM; only the SIGKILL after the grace ends it.
      // The timeout leaves the shell ample time to set its trap first, even on a loaded machine.
      command: "trap 'echo got TERM' TERM; while :; do sleep 0.05; done",
      timeoutMs: 2_000,
      killGraceMs: 300,
    });
    assert.equal(result.kind, 'timeout');
    assert.equal(result.error, 'timed out after 2000 ms');
    assert.match(result.output, /got TERM/);
    assert.equal(result.signal, 'SIGKILL');
  });

  it('kills on request every process of the group, grandchildren included', async () => {
    const { executor } = await open();
    const execution = executor.execute({
      ...BASE,
      command: 'sleep 300 & sleep 300 & (sleep 300; true) & wait',
    });
    const started = await execution.started;
    assert.ok(started);
    execution.kill(0);
    const result = await execution.done;
    assert.equal(result.kind, 'killed');
    assert.equal(result.error, 'killed on request');
    assert.deepEqual(await groupGone(started.pid), [], 'processes of the group are left');
  });

  it('gives a SIGTERM-handling command its grace on a kill', async () => {
    const { executor } = await open();
    const execution = executor.execute({
      ...BASE,
      command: "trap 'echo cleaning up; exit 7' TERM; while :; do sleep 0.05; done",
      killGraceMs: 5_000,
    });
    const started = await execution.started;
    assert.ok(started);
    await catchesSigterm(started.pid);
    execution.kill(5_000);
    const result = await execution.done;
    assert.equal(result.kind, 'killed');
    assert.equal(result.exitCode, 7);
    assert.match(result.output, /cleaning up/);
  });

  it('ends a run whose background child holds the output open, and leaves nothing of its group', async () => {
    const { result, started } = await run({
      command: 'sleep 300 & echo parent done',
      drainAfterExitMs: 200,
    });
    assert.ok(started);
    assert.equal(result.kind, 'exited');
    assert.equal(result.exitCode, 0);
    assert.equal(result.output, 'parent done\n');
    assert.ok(result.endTime - result.startTime < 5_000, 'the drain did not wait for the child');
    assert.deepEqual(await groupGone(started.pid), [], 'processes of the group are left');
  });

  it('leaves nothing of the group after a normal exit, even a child with its own output', async () => {
    const { result, started } = await run({ command: 'sleep 300 >/dev/null 2>&1 & echo ok' });
    assert.ok(started);
    assert.equal(result.output, 'ok\n');
    assert.deepEqual(await groupGone(started.pid), [], 'processes of the group are left');
  });

  it('runs many commands at once, each with its own output', async () => {
    const { executor } = await open();
    const executions = Array.from({ length: 64 }, (_, n) =>
      executor.execute({ ...BASE, command: 'echo "run $N"', env: { N: String(n) } }),
    );
    const results = await Promise.all(executions.map((e) => e.done));
    assert.deepEqual(
      results.map((r) => r.output),
      results.map((_, n) => `run ${n}\n`),
    );
  });

  it('kills fenced runs, and only those, when the lease lapses; later fenced runs while lapsed too', async () => {
    const { executor } = await open();
    executor.leaseValidFor(400);
    const fenced = executor.execute({ ...BASE, command: 'sleep 30', fenced: true });
    const free = executor.execute({ ...BASE, command: 'sleep 30' });
    const freeStart = await free.started;
    assert.ok(freeStart);
    const result = await fenced.done;
    assert.equal(result.kind, 'fenced');
    assert.equal(result.error, "killed: the agent's session lapsed");
    assert.ok(isAlive(freeStart.pid), 'a run that holds no lock goes on');

    const late = await executor.execute({ ...BASE, command: 'sleep 30', fenced: true }).done;
    assert.equal(late.kind, 'fenced', 'no fenced run may start while the lease has lapsed');

    executor.leaseValidFor(60_000);
    const renewed = await executor.execute({ ...BASE, command: 'echo held', fenced: true }).done;
    assert.equal(renewed.kind, 'exited');
    assert.equal(renewed.output, 'held\n');
    free.kill(0);
    assert.equal((await free.done).kind, 'killed');
  });

  it('fences at once when told the lease is gone', async () => {
    const { executor } = await open();
    executor.leaseValidFor(60_000);
    const execution = executor.execute({ ...BASE, command: 'sleep 30', fenced: true });
    await execution.started;
    executor.leaseValidFor(0);
    assert.equal((await execution.done).kind, 'fenced');
    executor.leaseValidFor(60_000);
  });

  it('kills what still runs when closed', async () => {
    const { executor } = await open();
    const execution = executor.execute({ ...BASE, command: 'sleep 300 & sleep 300; wait' });
    const started = await execution.started;
    assert.ok(started);
    await executor.close();
    await execution.done;
    assert.deepEqual(await groupGone(started.pid), [], 'processes of the group are left');
  });

  it('ends the runs of a crashed executor as lost, kills their groups, and runs the next', async (t) => {
    const underTest = await open();
    if (!underTest.crash) {
      t.skip("runs on the agent's own event loop: it cannot crash without the agent");
      return;
    }
    const execution = underTest.executor.execute({
      ...BASE,
      command: 'sleep 300 & sleep 300; wait',
    });
    const started = await execution.started;
    assert.ok(started);
    underTest.crash();
    const result = await execution.done;
    assert.equal(result.kind, 'lost');
    assert.match(result.error, /launcher exited/);
    assert.deepEqual(await groupGone(started.pid), [], 'processes of the group are left');
    const next = await underTest.executor.execute({ ...BASE, command: 'echo again' }).done;
    assert.equal(next.output, 'again\n');
  });
}
