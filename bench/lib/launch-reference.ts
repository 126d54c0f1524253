/**
 * What this machine can launch, the yardstick of the launch-path figures: bench/launch-reference
 * (Go's os/exec of `shell -c command`, output captured, 32 runs in flight, no scheduling, no
 * protocol) built with the Go toolchain on the machine and run once per bench run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable, firstExecutable } from '../../test/stack/index.ts';

const run = promisify(execFile);
const SOURCE = resolve(import.meta.dirname, '../launch-reference');
/** Where the toolchain's own installer puts Go when it is not on PATH. */
const GO_FALLBACKS = ['/usr/local/go/bin/go'];

export interface ReferenceSpec {
  readonly runs: number;
  readonly inflight: number;
  readonly shell: string;
  readonly command: string;
}

export interface ReferenceResult extends ReferenceSpec {
  readonly seconds: number;
  readonly runsPerSecond: number;
  readonly failed: number;
}

export function findGo(): string | undefined {
  const onPath = findExecutable('go');
  if (onPath !== undefined) return onPath;
  return firstExecutable(GO_FALLBACKS);
}

/** Builds the reference launcher and runs it once; throws when Go or the run fails. */
export async function measureReference(spec: ReferenceSpec): Promise<ReferenceResult> {
  const go = findGo();
  if (go === undefined) throw new Error('no Go toolchain (looked on PATH and /usr/local/go/bin)');
  const dir = mkdtempSync(join(tmpdir(), 'cronplane-bench-launch-reference-'));
  try {
    const binary = join(dir, 'launch-reference');
    await run(go, ['build', '-o', binary, '.'], {
      cwd: SOURCE,
      timeout: 180_000,
      env: { ...process.env, CGO_ENABLED: '0' },
    });
    const { stdout } = await run(
      binary,
      [
        ...['-n', String(spec.runs)],
        ...['-inflight', String(spec.inflight)],
        ...['-shell', spec.shell],
        ...['-command', spec.command],
      ],
      { timeout: 180_000 },
    );
    const said = JSON.parse(stdout.trim()) as {
      runs: number;
      seconds: number;
      runsPerSecond: number;
      failed: number;
    };
    if (said.failed > 0) throw new Error(`the reference launcher saw ${said.failed} failed runs`);
    return { ...spec, seconds: said.seconds, runsPerSecond: said.runsPerSecond, failed: 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
