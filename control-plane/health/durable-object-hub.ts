/**
 * The health hub port on Workers: every call goes to the fleet's one HealthHubObject. WebSocket
 * upgrades are forwarded to it (it accepts the sockets itself); the agent list is an RPC call.
 */
import type { AgentHealthView } from '../../core/health.ts';
import type { HealthHub } from '../ports.ts';
import type { HealthHubObject } from './health-hub-object.ts';
import { HUB_PATHS } from './health-hub-object.ts';

/** One object holds the whole fleet: a few messages per agent every heartbeat interval. */
const HUB_NAME = 'fleet';
/** The object's fetch sees only the path; the origin is a placeholder. */
const HUB_ORIGIN = 'https://health-hub.internal';

export function createDurableObjectHub(
  namespace: DurableObjectNamespace<HealthHubObject>,
): HealthHub {
  const hub = () => namespace.get(namespace.idFromName(HUB_NAME));
  const forward = (path: string, request: Request) =>
    hub().fetch(new Request(HUB_ORIGIN + path, { headers: request.headers }));
  return {
    connectAgent: (c) => forward(HUB_PATHS.agent, c.req.raw),
    streamViewers: (c) => forward(HUB_PATHS.viewer, c.req.raw),
    // RPC's mapped result type widens readonly tuples (`load`) to arrays; the values are the
    // object's own AgentHealthViews, structured-cloned.
    list: async () => (await hub().list()) as AgentHealthView[],
  };
}
