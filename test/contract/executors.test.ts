/** Runs the executor contract against the launcher and the Node fallback alike. */
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { Executor } from '../../agent/executor.ts';
import { startExecutor } from '../../agent/executor-selection.ts';
import { LauncherError, startLauncherExecutor } from '../../agent/launcher-executor.ts';
import { createNodeExecutor } from '../../agent/node-executor.ts';
import { executorContract } from './executor.contract.ts';

// The executors pass their own environment on to runs; the contract checks this one arrives.
process.env.CONTRACT_INHERITED = 'from the agent';

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
const LAUNCHER = resolve(
  import.meta.dirname,
  `../../dist/launcher/linux-${GO_ARCH[process.arch] ?? process.arch}/cronplane-launcher`,
);

function requireLauncher(): string {
  try {
    accessSync(LAUNCHER, constants.X_OK);
  } catch {
    assert.fail(`no launcher at ${LAUNCHER}: run bash scripts/build-launcher.sh`);
  }
  return LAUNCHER;
}

const now = (): number => Date.now();
const opened: Executor[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((executor) => executor.close()));
});

describe('executor contract: the launcher', () => {
  executorContract(async () => {
    const executor = await startLauncherExecutor({ path: requireLauncher(), now });
    opened.push(executor);
    return { executor, crash: () => process.kill(executor.pid, 'SIGKILL') };
  });
});

describe('executor contract: Node child_process', () => {
  executorContract(() => {
    const executor = createNodeExecutor({ now });
    opened.push(executor);
    return Promise.resolve({ executor });
  });
});

describe('executor selection', () => {
  it('falls back to Node, saying why, when the launcher is missing', async () => {
    const executor = await startExecutor({
      preference: 'auto',
      launcherPath: '/nonexistent/cronplane-launcher',
      now,
    });
    opened.push(executor);
    assert.equal(executor.kind, 'node');
    assert.match(String(executor.status().fallbackReason), /cannot start \/nonexistent/);
    assert.equal(
      (
        await executor.execute({
          shell: '/bin/bash',
          command: 'echo fallback',
          env: {},
          maxOutputBytes: 1024,
          timeoutMs: 0,
          killGraceMs: 0,
          drainAfterExitMs: 100,
          fenced: false,
        }).done
      ).output,
      'fallback\n',
    );
  });

  it('refuses a launcher that speaks another protocol', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cronplane-launcher-'));
    const impostor = join(dir, 'cronplane-launcher');
    writeFileSync(
      impostor,
      '#!/bin/sh\necho \'{"t":"hello","protocol":99,"version":"x","pid":1}\'\nsleep 5\n',
      {
        mode: 0o755,
      },
    );
    await assert.rejects(startLauncherExecutor({ path: impostor, now }), (error) => {
      assert.ok(error instanceof LauncherError);
      assert.match(error.message, /protocol 99/);
      return true;
    });
    const executor = await startExecutor({ preference: 'auto', launcherPath: impostor, now });
    opened.push(executor);
    assert.equal(executor.status().kind, 'node');
    await assert.rejects(
      startExecutor({ preference: 'launcher', launcherPath: impostor, now }),
      /required/,
    );
  });

  it('uses the launcher when it is there, and says which version', async () => {
    const executor = await startExecutor({
      preference: 'auto',
      launcherPath: requireLauncher(),
      now,
    });
    opened.push(executor);
    assert.deepEqual(
      { kind: executor.status().kind, fallbackReason: executor.status().fallbackReason },
      { kind: 'launcher', fallbackReason: null },
    );
    assert.match(String(executor.status().version), /^\d+\.\d+\.\d+/);
  });
});
