/**
 * Live agent health on the Worker under `wrangler dev`: the Durable Object hub, reached through
 * the relay for data. One wrangler for the whole file; the restart keeps the object's storage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay } from '../../relay/server.ts';
import { startWranglerDev } from '../stack/wrangler-dev.ts';
import type { ControlPlaneUnderTest, HealthData } from './live-health.ts';
import { HEALTH_TOKENS, describeLiveHealth } from './live-health.ts';

const RELAY_SECRET = 'health-relay-secret-0123456789abcdef';

async function startWorker({
  stack,
  prefix,
  database,
}: HealthData): Promise<ControlPlaneUnderTest> {
  const relay = await startRelay({
    etcdEndpoints: stack.etcd.endpoints,
    mongoUrl: stack.mongo.url,
    database,
    prefix,
    secret: RELAY_SECRET,
    port: 0,
    host: '127.0.0.1',
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'cronplane-health-worker-'));
  const close = async () => {
    await relay.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const worker = await startWranglerDev({
      dataDir,
      vars: {
        RELAY_URL: relay.url,
        RELAY_SECRET,
        ADMIN_TOKEN: HEALTH_TOKENS.admin,
        VIEWER_TOKEN: HEALTH_TOKENS.viewer,
        AGENT_TOKEN: HEALTH_TOKENS.agent,
      },
    });
    return {
      url: worker.url,
      stop: () => worker.stop(),
      start: () => worker.start(),
      async close() {
        await worker.stop();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

describeLiveHealth({ name: 'Worker', start: startWorker });
