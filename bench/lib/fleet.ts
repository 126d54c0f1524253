/**
 * The benchmark fleet: a control plane on Node reading etcd and MongoDB directly (so API
 * figures reach the same agents), and up to five real agents on its prefix and database. The
 * fleet grows and shrinks between scenarios instead of restarting: agents are added and
 * removed (newest first) in parallel: killed, their session lease then revoked (a graceful stop,
 * which waits for the writers to flush, only when --cpu-prof profiles are wanted).
 */
import { mkdirSync } from 'node:fs';
import { openApiWorld, type ApiWorld } from '../../test/integration/api-world.ts';
import type { Stack } from '../../test/stack/index.ts';
import { startBenchAgents, type BenchAgent } from './agent.ts';

/** Enough concurrency for a burst of thousands of claims; batches as the brief suggests. */
export const FLEET_AGENT_ARGS = ['--max-concurrent-runs', '500', '--log-batch-size', '500'];

export interface Fleet {
  readonly world: ApiWorld;
  readonly agents: readonly BenchAgent[];
  /** Starts or stops agents (newest first) until `count` run. */
  resize(count: number): Promise<void>;
  close(): Promise<void>;
}

export interface FleetOptions {
  /** Directory for --cpu-prof profiles of the fleet's agents; none when undefined. */
  readonly profileDir?: string;
}

export async function openFleet(stack: Stack, options: FleetOptions = {}): Promise<Fleet> {
  const world = await openApiWorld(stack, 'direct');
  const agents: BenchAgent[] = [];
  let nextId = 1;
  if (options.profileDir !== undefined) mkdirSync(options.profileDir, { recursive: true });
  const nodeFlags =
    options.profileDir === undefined
      ? undefined
      : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];

  const fleet: Fleet = {
    world,
    agents,
    async resize(count) {
      if (agents.length < count) {
        const ids = Array.from({ length: count - agents.length }, () => `agent-${nextId++}`);
        const started = await startBenchAgents(ids, {
          etcdEndpoints: stack.etcd.endpoints,
          mongoUrl: stack.mongo.url,
          database: world.database,
          prefix: world.keys.prefix,
          extraArgs: FLEET_AGENT_ARGS,
          ...(nodeFlags ? { nodeFlags } : {}),
        });
        agents.push(...started);
      }
      const leaving = agents.splice(count);
      // Every figure has read what it needs before the fleet shrinks. A graceful stop would
      // wait for the writers to flush their backlog into a slow MongoDB-wire server; it is
      // needed only to write --cpu-prof profiles.
      if (options.profileDir !== undefined) {
        await Promise.all(leaving.map((agent) => agent.stop('SIGTERM')));
        return;
      }
      await Promise.all(leaving.map((agent) => agent.stop('SIGKILL')));
      // What a graceful stop ends with: the session lease revoked, so the others stop ranking
      // the agent and its keys are gone now rather than a TTL later.
      for (const agent of leaving) {
        const registration = await world.etcd.get(world.keys.worker(agent.agentId)).exec();
        const lease = registration.kvs[0]?.lease;
        if (lease !== undefined && lease !== '0')
          await world.etcd.leaseClient.leaseRevoke({ ID: lease }).catch(() => undefined);
      }
    },
    async close() {
      await fleet.resize(0);
      await world.close();
    },
  };
  return fleet;
}
