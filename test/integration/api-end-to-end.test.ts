/** End to end: `cronplane job put` → a real agent runs it → `cronplane job runs` shows its output. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { AgentProcess } from '../agent/agent-process.ts';
import { startAgentProcess } from '../agent/agent-process.ts';
import type { Stack } from '../stack/index.ts';
import { startStack, waitUntil } from '../stack/index.ts';
import { runJobCli } from './api-cli-runner.ts';
import type { ApiWorld } from './api-world.ts';
import { TOKENS, openApiWorld } from './api-world.ts';

let stack: Stack;
let api: ApiWorld;
let agent: AgentProcess;
before(async () => {
  stack = await startStack();
  api = await openApiWorld(stack, 'relay');
  agent = startAgentProcess({
    etcdEndpoints: stack.etcd.endpoints,
    mongoUrl: stack.mongo.url,
    database: api.database,
    prefix: api.keys.prefix,
    agentId: 'e2e-agent',
  });
});
after(async () => {
  await agent.stop();
  await api.close();
  await stack.stop();
});

const job = (args: readonly string[]) =>
  runJobCli(args, { CRONPLANE_URL: api.url, CRONPLANE_TOKEN: TOKENS.admin });

it('runs a job put through the CLI and shows the run with its output', async () => {
  const put = await job([
    'put',
    'hello',
    '--cron',
    '* * * * * *',
    '--command',
    'echo hello from cronplane',
  ]);
  assert.equal(put.code, 0, put.stderr);

  const runs = await waitUntil(
    async () => {
      const result = await job(['runs', 'hello']);
      return (
        /succeeded\s+schedule\s+0\s+\S+\s+e2e-agent\s+hello from cronplane$/m.test(result.stdout) &&
        result
      );
    },
    {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'a succeeded run of "hello" in `cronplane job runs`',
    },
  );
  const runId = /^(\S+)\s+\d{4}-/m.exec(runs.stdout.split('\n')[1] ?? '')?.[1];
  assert.ok(runId, runs.stdout);
  const log = await job(['run-log', runId]);
  assert.equal(log.code, 0, log.stderr);
  assert.equal(log.stdout, 'hello from cronplane\n');

  const workers = JSON.parse((await api.call('GET', '/v1/workers')).text) as {
    workers: { agentId: string }[];
  };
  assert.deepEqual(
    workers.workers.map((w) => w.agentId),
    ['e2e-agent'],
  );
  const listed = await job(['ls']);
  assert.match(listed.stdout, /^hello\s+.*\s+succeeded \d{4}-/m);
});
