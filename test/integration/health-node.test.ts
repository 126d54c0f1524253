/** Live agent health on the Node control plane (in-process hub over `ws`). */
import type { Role } from '../../core/api.ts';
import type { RunningControlPlane } from '../../control-plane/entry/node.ts';
import { startControlPlane } from '../../control-plane/entry/node.ts';
import type { ControlPlaneUnderTest, HealthData } from './live-health.ts';
import { HEALTH_TOKENS, describeLiveHealth } from './live-health.ts';

async function startNode({ stack, prefix, database }: HealthData): Promise<ControlPlaneUnderTest> {
  const launch = (port: number) =>
    startControlPlane({
      port,
      host: '127.0.0.1',
      data: {
        kind: 'direct',
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
        database,
        prefix,
      },
      tokens: (Object.keys(HEALTH_TOKENS) as Role[]).map((role) => ({
        name: role,
        role,
        token: HEALTH_TOKENS[role],
      })),
    });
  let current: RunningControlPlane | null = await launch(0);
  const { url, port } = current;
  return {
    url,
    async stop() {
      await current?.stop();
      current = null;
    },
    async start() {
      current = await launch(port);
    },
    async close() {
      await current?.stop();
    },
  };
}

describeLiveHealth({ name: 'Node', start: startNode });
