/** Runs `cronplane job …` as a real process against a control plane, from an empty folder. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../bin/cronplane.js');
// An empty working folder, so a developer's ./.cronplane/dev.json cannot leak into the tests.
const CWD = mkdtempSync(join(tmpdir(), 'cronplane-cli-'));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runJobCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    execFile(
      process.execPath,
      [CLI, 'job', ...args],
      { cwd: CWD, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          return reject(new Error(`cannot run the CLI: ${error.message}`, { cause: error }));
        }
        resolveRun({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

export function cliDir(): string {
  return CWD;
}
