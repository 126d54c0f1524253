import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/entry/node.ts';
import { routeOf } from '../../control-plane/entry/http-metrics.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { freePort, startStack, uniqueDatabase, uniquePrefix, type Stack } from '../stack/index.ts';

const SECRET = 'metrics-test-relay-secret-0123456789';
const ADMIN = 'metrics-test-admin-token-0123456789';

async function scrape(
  port: number,
): Promise<Map<string, ReturnType<typeof parsePrometheusTextFormat>[number]>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

describe('control plane and relay metrics', () => {
  let stack: Stack;
  let relay: RunningRelay;
  let controlPlane: RunningControlPlane;
  let relayMetricsPort: number;
  let controlPlaneMetricsPort: number;

  before(async () => {
    stack = await startStack();
    relayMetricsPort = await freePort();
    controlPlaneMetricsPort = await freePort();
    relay = await startRelay({
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database: uniqueDatabase(),
      prefix: uniquePrefix(),
      secret: SECRET,
      port: 0,
      host: '127.0.0.1',
      metrics: { port: relayMetricsPort, host: '127.0.0.1' },
    });
    controlPlane = await startControlPlane({
      port: 0,
      host: '127.0.0.1',
      data: { kind: 'relay', url: relay.url, secret: SECRET },
      tokens: [{ name: 'admin', role: 'admin', token: ADMIN }],
      metrics: { port: controlPlaneMetricsPort, host: '127.0.0.1' },
    });
  });
  after(async () => {
    await controlPlane.stop();
    await relay.stop();
    await stack.stop();
  });

  it('counts requests by route pattern and status on both, in Prometheus text format', async () => {
    const headers = { authorization: `Bearer ${ADMIN}` };
    for (let i = 0; i < 3; i++)
      await (await fetch(`${controlPlane.url}/v1/jobs`, { headers })).body?.cancel();
    await (
      await fetch(`${controlPlane.url}/v1/jobs/missing-${Date.now()}`, { headers })
    ).body?.cancel();
    await (await fetch(`${controlPlane.url}/v1/jobs`)).body?.cancel();

    const cp = await scrape(controlPlaneMetricsPort);
    const requests = cp.get('cronplane_control_plane_requests_total');
    assert.equal(requests?.type, 'COUNTER');
    const count = (route: string, status: string): number =>
      Number(
        requests?.metrics.find((m) => m.labels?.route === route && m.labels.status === status)
          ?.value ?? 0,
      );
    assert.equal(count('/v1/jobs', '200'), 3);
    assert.equal(count('/v1/jobs', '401'), 1);
    assert.equal(count('/v1/jobs/:name', '404'), 1, 'job names are folded into the route pattern');
    assert.equal(cp.get('cronplane_control_plane_request_duration_seconds')?.type, 'HISTOGRAM');

    const relayFamilies = await scrape(relayMetricsPort);
    const relayed = relayFamilies.get('cronplane_relay_requests_total');
    const listed = relayed?.metrics.find(
      (m) => m.labels?.route === '/relay/v1/jobs.list' && m.labels.status === '200',
    );
    assert.ok(Number(listed?.value) >= 3, 'the relay counted the list operations it served');
  });

  it('keeps route labels bounded whatever the path', () => {
    assert.equal(routeOf('/v1/jobs/backup/runs'), '/v1/jobs/:name/runs');
    assert.equal(routeOf('/v1/runs/abc-123'), '/v1/runs/:runId');
    assert.equal(routeOf('/assets/app.js'), 'other');
    assert.equal(routeOf('/v1/jobs/a/b/c/d'), 'other');
    assert.equal(routeOf('/relay/v1/jobs.list'), '/relay/v1/jobs.list');
    assert.equal(routeOf('/relay/v1/no.such.op'), 'other');
  });
});
