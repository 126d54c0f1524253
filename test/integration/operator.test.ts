import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { SKIP_REASON_FORBID } from '../../agent/dispatcher.ts';
import type { RunRecord } from '../../core/run-log.ts';
import { freePort, startStack, waitUntil, type Stack } from '../stack/index.ts';
import { findLastRuns } from '../contract/last-runs.ts';
import {
  startAgentProcess,
  type AgentProcess,
  type AgentProcessOptions,
} from '../agent/agent-process.ts';
import { openApiWorld, type ApiWorld } from './api-world.ts';

describe('operator essentials', () => {
  let stack: Stack;
  let world: ApiWorld;
  const agents: AgentProcess[] = [];

  const startAgent = (
    agentId: string,
    options: Partial<AgentProcessOptions> = {},
  ): AgentProcess => {
    const agent = startAgentProcess({
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database: world.database,
      prefix: world.keys.prefix,
      agentId,
      ...options,
    });
    agents.push(agent);
    return agent;
  };
  const runs = async (job: string): Promise<RunRecord[]> =>
    world.db
      .collection<RunRecord>('log')
      .find({ jobName: job }, { projection: { _id: 0 } })
      .sort({ planTime: 1, attempt: 1 })
      .toArray();
  const putJob = async (job: Record<string, unknown> & { name: string }): Promise<void> => {
    const answer = await world.call('PUT', `/v1/jobs/${job.name}`, { body: job });
    assert.ok(answer.status === 200 || answer.status === 201, answer.text);
  };
  const deleteJob = async (name: string): Promise<void> => {
    await world.call('DELETE', `/v1/jobs/${name}`);
  };

  before(async () => {
    stack = await startStack();
    world = await openApiWorld(stack, 'relay');
  });
  after(async () => {
    await Promise.all(agents.map((agent) => agent.stop('SIGKILL')));
    await world.close();
    await stack.stop();
  });

  it('runs a job now exactly once across three agents, and refuses a busy forbid job with 409', async () => {
    const fleet = [startAgent('now-1'), startAgent('now-2'), startAgent('now-3')];
    await Promise.all(fleet.map((agent) => agent.waitForEvent('agent:ready')));
    await putJob({
      name: 'on-demand',
      command: 'echo manual; sleep 2',
      cronExpr: '0 0 0 1 1 * 2199',
    });
    await Promise.all(
      fleet.map((agent) => agent.waitForEvent('scheduler:planned', (e) => e.job === 'on-demand')),
    );

    const answer = await world.call('POST', '/v1/jobs/on-demand/run');
    assert.equal(answer.status, 202, answer.text);
    const { runId } = answer.json as { runId: string };
    const busy = await world.call('POST', '/v1/jobs/on-demand/run');
    assert.equal(busy.status, 409, busy.text);

    const [record] = await waitUntil(
      async () => ((await runs('on-demand')).length > 0 ? runs('on-demand') : null),
      { timeoutMs: 10_000, what: 'the manual run record' },
    );
    assert.equal(record?.runId, runId);
    assert.equal(record?.trigger, 'manual');
    assert.equal(record?.triggeredBy, 'admin');
    assert.equal(record?.output, 'manual\n');
    const started = fleet.flatMap((agent) =>
      agent.events.filter((e) => e.event === 'run:started' && e.job === 'on-demand'),
    );
    assert.equal(started.length, 1, 'exactly one agent ran it');
    assert.equal((await world.call('POST', '/v1/jobs/nope/run')).status, 404);
    await Promise.all(fleet.map((agent) => agent.stop()));
  });

  it('retries a failing job and counts the last attempt: two failures then a success is a success', async () => {
    const agent = startAgent('retrier');
    await agent.waitForEvent('agent:ready');
    const counter = `/tmp/cronplane-retry-${process.pid}-${Date.now()}`;
    await putJob({
      name: 'flaky',
      command: `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; echo attempt $n; [ $n -ge 3 ]`,
      cronExpr: '* * * * * *',
      retries: 2,
      retryDelaySec: 0,
    });
    const attempts = await waitUntil(
      async () => ((await runs('flaky')).length >= 3 ? runs('flaky') : null),
      { timeoutMs: 15_000, what: 'three attempts of flaky' },
    );
    await deleteJob('flaky');
    const [first, second, third] = attempts;
    assert.deepEqual([first?.attempt, second?.attempt, third?.attempt], [1, 2, 3]);
    assert.deepEqual(
      [first?.status, second?.status, third?.status],
      ['failed', 'failed', 'succeeded'],
    );
    assert.equal(
      new Set(attempts.slice(0, 3).map((r) => r.planTime)).size,
      1,
      'every attempt serves the same tick',
    );
    const lastRun = await waitUntil(
      async () => (await findLastRuns(world.db, { jobName: 'flaky' }))[0],
      { timeoutMs: 5_000, what: 'the last-run summary' },
    );
    assert.equal(lastRun.status, 'succeeded');
    await agent.stop();
  });

  it('records one skipped entry covering the gap when every agent was down for 5 s', async () => {
    const first = startAgent('skip-1');
    await first.waitForEvent('agent:ready');
    await putJob({ name: 'heartbeat', command: 'true', cronExpr: '* * * * * *' });
    await first.waitForEvent('run:ended', (e) => e.job === 'heartbeat');
    await first.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const second = startAgent('skip-1');
    const skipped = await waitUntil(
      async () => (await runs('heartbeat')).find((r) => r.status === 'skipped'),
      { timeoutMs: 15_000, what: 'a skipped record' },
    );
    await deleteJob('heartbeat');
    await second.stop();
    assert.ok(skipped.skip);
    assert.ok(skipped.skip.count >= 5, `counts the whole gap (${skipped.skip.count})`);
    assert.ok(
      skipped.skip.firstMissed >= stoppedAt - 1_000 &&
        skipped.skip.firstMissed <= stoppedAt + 1_000,
    );
    assert.equal(skipped.skip.reason, 'no agent alive');
    assert.equal(
      (await runs('heartbeat')).filter((r) => r.status === 'skipped').length,
      1,
      'one record for the gap',
    );
  });

  it('says a forbid job skipped ticks because its previous run was still running', async () => {
    const agent = startAgent('skip-forbid');
    await agent.waitForEvent('agent:ready');
    await putJob({
      name: 'slow-forbid',
      command: 'sleep 2.3',
      cronExpr: '* * * * * *',
      concurrency: 'forbid',
    });
    const skipped = await waitUntil(
      async () => (await runs('slow-forbid')).find((r) => r.status === 'skipped'),
      { timeoutMs: 15_000, what: 'a skipped record' },
    );
    await deleteJob('slow-forbid');
    await agent.stop();
    assert.ok(skipped.skip);
    assert.equal(skipped.skip.reason, SKIP_REASON_FORBID);
    assert.ok(skipped.skip.count >= 1 && skipped.skip.count <= 3, `count ${skipped.skip.count}`);
  });

  it('delivers a signed failure webhook, and a receiver that is down does not slow the schedule', async () => {
    const received: { body: string; timestamp: string; signature: string }[] = [];
    const receiver = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          body: Buffer.concat(chunks).toString('utf8'),
          timestamp: String(request.headers['x-cronplane-timestamp']),
          signature: String(request.headers['x-cronplane-signature']),
        });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const deadUrl = `http://127.0.0.1:${await freePort()}/hook`;
    const secret = 'webhook-secret-for-tests';
    const agent = startAgent('notifier', {
      extraArgs: ['--webhook-secret', secret, '--notify-failure-urls', deadUrl],
    });
    await agent.waitForEvent('agent:ready');
    await putJob({
      name: 'failing',
      command: 'echo broken; exit 4',
      cronExpr: '* * * * * *',
      notify: { failure: [receiverUrl] },
    });
    const delivery = await waitUntil(() => received[0], {
      timeoutMs: 10_000,
      what: 'a webhook delivery',
    });
    const expected = `sha256=${createHmac('sha256', secret).update(`${delivery.timestamp}.${delivery.body}`).digest('hex')}`;
    assert.equal(delivery.signature, expected);
    const payload = JSON.parse(delivery.body) as Record<string, unknown>;
    assert.equal(payload.event, 'run.failed');
    assert.equal(payload.job, 'failing');
    assert.equal(payload.exitCode, 4);
    assert.equal(payload.outputTail, 'broken\n');

    const failing = await waitUntil(
      async () => ((await runs('failing')).length >= 5 ? runs('failing') : null),
      { timeoutMs: 15_000, what: 'five runs while one receiver is down' },
    );
    await deleteJob('failing');
    const ticks = failing.map((r) => r.planTime);
    for (let i = 1; i < ticks.length; i++)
      assert.equal(
        (ticks[i] as number) - (ticks[i - 1] as number),
        1_000,
        'no tick delayed or skipped',
      );
    const lateness = agent.events
      .filter((e) => e.event === 'run:started')
      .map((e) => Number(e.latenessMs));
    assert.ok(Math.max(...lateness) < 500, `lateness stayed low: ${lateness.join(', ')}`);
    assert.ok(
      agent.events.some((e) => e.event === 'notify:unreachable'),
      'the dead receiver was tried',
    );
    receiver.close();
    await agent.stop();
  });

  it('serves /metrics that a Prometheus parser reads, with run counters matching the runs performed', async () => {
    const port = await freePort();
    const agent = startAgent('measured', { extraArgs: ['--metrics-port', String(port)] });
    await agent.waitForEvent('agent:ready');
    await putJob({ name: 'counted-ok', command: 'true', cronExpr: '* * * * * *' });
    await putJob({ name: 'counted-bad', command: 'false', cronExpr: '* * * * * *' });
    await waitUntil(
      async () => (await runs('counted-ok')).length >= 3 && (await runs('counted-bad')).length >= 3,
      { timeoutMs: 15_000, what: 'three runs of each job' },
    );
    await deleteJob('counted-ok');
    await deleteJob('counted-bad');
    const ended = (job: string): number =>
      agent.events.filter((e) => e.event === 'run:ended' && e.job === job).length;
    await waitUntil(
      () =>
        agent.events.filter((e) => e.event === 'run:started').length ===
        ended('counted-ok') + ended('counted-bad'),
      { timeoutMs: 5_000, what: 'runs in flight to end' },
    );
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const families = parsePrometheusTextFormat(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    const runsTotal = byName.get('cronplane_runs_total');
    assert.equal(runsTotal?.type, 'COUNTER');
    const count = (job: string, status: string): number =>
      Number(
        runsTotal?.metrics.find((m) => m.labels?.job === job && m.labels.status === status)
          ?.value ?? 0,
      );
    assert.equal(count('counted-ok', 'succeeded'), ended('counted-ok'));
    assert.equal(count('counted-bad', 'failed'), ended('counted-bad'));
    assert.equal(byName.get('cronplane_fire_lateness_seconds')?.type, 'HISTOGRAM');
    assert.equal(byName.get('cronplane_session_live')?.metrics[0]?.value, '1');
    for (const name of [
      'cronplane_claims_total',
      'cronplane_log_backlog_records',
      'cronplane_log_spill_bytes',
      'cronplane_etcd_call_duration_seconds',
      'cronplane_mongo_call_duration_seconds',
    ]) {
      assert.ok(byName.has(name), `${name} is exposed`);
    }
    await agent.stop();
  });
});
