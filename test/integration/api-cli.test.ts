/** `cronplane job` against a running control plane: tables, --json, and the API's errors. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RUN_LOG_COLLECTION } from '../../core/run-log.ts';
import { runRecord } from '../contract/records.ts';
import type { Stack } from '../stack/index.ts';
import { startStack } from '../stack/index.ts';
import type { CliResult } from './api-cli-runner.ts';
import { cliDir, runJobCli } from './api-cli-runner.ts';
import type { ApiWorld } from './api-world.ts';
import { TOKENS, openApiWorld } from './api-world.ts';

let stack: Stack;
let api: ApiWorld;
before(async () => {
  stack = await startStack();
  api = await openApiWorld(stack, 'direct');
});
after(async () => {
  await api.close();
  await stack.stop();
});

function job(args: readonly string[], token: string = TOKENS.admin): Promise<CliResult> {
  return runJobCli(args, { CRONPLANE_URL: api.url, CRONPLANE_TOKEN: token });
}

function assertExit(result: CliResult, code: number): void {
  assert.equal(
    result.code,
    code,
    `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
}

describe('cronplane job', () => {
  it('creates a job from flags, then replaces it', async () => {
    const created = await job([
      'put',
      'nightly',
      '--cron',
      '0 3 * * *',
      '--command',
      'echo nightly',
      '--tz',
      'Europe/Berlin',
      '--label',
      'zone=a',
      '--timeout-sec',
      '60',
    ]);
    assertExit(created, 0);
    assert.match(created.stdout, /^created job nightly \(revision \d+\)$/m);
    const replaced = await job([
      'put',
      'nightly',
      '--cron',
      '0 4 * * *',
      '--command',
      'echo nightly',
      '--disabled',
    ]);
    assertExit(replaced, 0);
    assert.match(replaced.stdout, /^replaced job nightly/m);
    const got = await job(['get', 'nightly', '--json']);
    assertExit(got, 0);
    const view = JSON.parse(got.stdout) as {
      job: { cronExpr: string; enabled: boolean; labels: object };
    };
    assert.equal(view.job.cronExpr, '0 4 * * *');
    assert.equal(view.job.enabled, false);
    assert.deepEqual(view.job.labels, {}, 'put replaces the whole job');
  });

  it('lists jobs as a table for people and as JSON for scripts', async () => {
    await job(['put', 'listed', '--cron', '*/5 * * * *', '--command', 'echo listed']);
    const table = await job(['ls']);
    assertExit(table, 0);
    assert.match(table.stdout, /^NAME\s+SCHEDULE\s+TZ\s+ENABLED\s+LAST RUN\s+COMMAND$/m);
    assert.match(table.stdout, /^listed\s+\*\/5 \* \* \* \*\s+UTC\s+yes\s+-\s+echo listed$/m);
    const json = await job(['ls', '--json']);
    assertExit(json, 0);
    const names = (JSON.parse(json.stdout) as { jobs: { job: { name: string } }[] }).jobs.map(
      (j) => j.job.name,
    );
    assert.ok(names.includes('listed'));
  });

  it('creates a job from a JSON file, taking the name from the file', async () => {
    const file = join(cliDir(), 'from-file.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'from-file', command: 'date', cronExpr: '@hourly' }),
    );
    assertExit(await job(['put', '--file', file]), 0);
    const mismatch = await job(['put', 'another-name', '--file', file]);
    assertExit(mismatch, 1);
    assert.match(mismatch.stderr, /name: must equal the name in the URL/);
  });

  it('exits 1 with the API’s message and every field error', async () => {
    const result = await job([
      'put',
      'broken',
      '--cron',
      '99 * * * *',
      '--command',
      'x',
      '--timeout-sec',
      'soon',
      '--concurrency',
      'maybe',
    ]);
    assertExit(result, 1);
    assert.match(result.stderr, /^cronplane job: invalid job$/m);
    assert.match(result.stderr, /^ {2}cronExpr: /m);
    assert.match(result.stderr, /^ {2}timeoutSec: /m);
    assert.match(result.stderr, /^ {2}concurrency: /m);
  });

  it('shows runs with their output, and one run’s full output', async () => {
    await api.db.collection(RUN_LOG_COLLECTION).insertOne({
      ...runRecord('reported', 1_700_000_000_000, { output: 'first line\nsecond line\n' }),
    });
    const runs = await job(['runs', 'reported']);
    assertExit(runs, 0);
    assert.match(
      runs.stdout,
      /^reported-1700000000000\s+2023-11-14 22:13:20Z\s+succeeded\s+schedule\s+0\s+90ms\s+agent-1\s+first line$/m,
    );
    const log = await job(['run-log', 'reported-1700000000000']);
    assertExit(log, 0);
    assert.equal(log.stdout, 'first line\nsecond line\n');
    assert.match(log.stderr, /succeeded, exit 0/);
    assertExit(await job(['run-log', 'missing-run']), 1);
  });

  it('requests a kill, deletes, and reports a missing job', async () => {
    await job(['put', 'short-lived', '--cron', '* * * * *', '--command', 'sleep 1']);
    const kill = await job(['kill', 'short-lived']);
    assertExit(kill, 0);
    assert.match(kill.stdout, /asked the agents to kill the runs of short-lived/);
    assertExit(await job(['rm', 'short-lived']), 0);
    const again = await job(['rm', 'short-lived']);
    assertExit(again, 1);
    assert.match(again.stderr, /job "short-lived" does not exist/);
  });

  it('exits 1 when the role may not write', async () => {
    const result = await job(
      ['put', 'viewer-try', '--cron', '* * * * *', '--command', 'x'],
      TOKENS.viewer,
    );
    assertExit(result, 1);
    assert.match(result.stderr, /role "viewer" may not write/);
  });

  it('exits 2 on usage errors and missing settings', async () => {
    assertExit(await job(['frobnicate']), 2);
    assertExit(await job(['put', 'x', '--cron', '* * * * *']), 2);
    assertExit(
      await job(['put', 'x', '--label', 'novalue', '--cron', '* * * * *', '--command', 'x']),
      2,
    );
    const noUrl = await runJobCli(['ls'], {});
    assertExit(noUrl, 2);
    assert.match(noUrl.stderr, /no API URL/);
  });
});
