/**
 * The benchmark fleet: a control plane on Node reading etcd and MongoDB directly (so API
 * figures reach the same agents), and up to five real agents on its prefix and database. The
 * fleet grows and shrinks between scenarios instead of restarting: agents are added and
 * removed (newest first) in parallel: killed, their session lease then revoked (a graceful stop,
 * which waits for the writers to flush, only when --cpu-prof profiles are wanted). The agents
 * run as installed (the bundle, its launcher, the unit's node flags) when `prebench` has built
 * a bundle, else through tsx.
 */
import { mkdirSync } from 'node:fs';
import { openApiWorld, type ApiWorld } from '../../test/integration/api-world.ts';
import type { Stack } from '../../test/stack/index.ts';
import { startBenchAgents, type AgentEntry, type BenchAgent } from './agent.ts';
import { findAgentBundle, INSTALLED_NODE_FLAGS, launcherForBundle } from './bundle.ts';

/** Enough concurrency for a burst of thousands of claims; batches as the brief suggests. */
export const FLEET_AGENT_ARGS: readonly string[] = [
  '--max-concurrent-runs',
  '500',
  '--log-batch-size',
  '500',
];

/**
 * The agent's own defaults (agent/config.ts AGENT_DEFAULTS: 64 concurrent runs, log batches of
 * 200, 60 s misfire window, …): the launch-path figures (9–11) measure what an operator gets
 * without tuning. Only what every bench agent needs is given (endpoints, prefix, database, id,
 * state directory, and a 5 s shutdown grace, which only matters when an agent stops).
 */
export const DEFAULT_AGENT_ARGS: readonly string[] = [];

export interface Fleet {
  readonly world: ApiWorld;
  readonly agents: readonly BenchAgent[];
  /**
   * Starts or stops agents (newest first) until `count` run, each with `agentArgs` (default
   * FLEET_AGENT_ARGS). Agents started with other arguments are stopped and replaced first.
   */
  resize(count: number, agentArgs?: readonly string[]): Promise<void>;
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
  /** The arguments the running agents were started with. */
  let runningArgs: readonly string[] = FLEET_AGENT_ARGS;
  if (options.profileDir !== undefined) mkdirSync(options.profileDir, { recursive: true });
  const bundle = findAgentBundle();
  const entry: AgentEntry =
    bundle === undefined ? { kind: 'tsx' } : { kind: 'bundle', path: bundle };
  const launcher = bundle === undefined ? undefined : launcherForBundle(bundle);
  const installedArgs = launcher === undefined ? [] : ['--launcher-path', launcher];
  const nodeFlags = [
    ...(bundle === undefined ? [] : INSTALLED_NODE_FLAGS),
    ...(options.profileDir === undefined
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]),
  ];

  const fleet: Fleet = {
    world,
    agents,
    async resize(count, agentArgs = FLEET_AGENT_ARGS) {
      if (agents.length > 0 && agentArgs.join(' ') !== runningArgs.join(' '))
        await fleet.resize(0, runningArgs);
      runningArgs = agentArgs;
      if (agents.length < count) {
        const ids = Array.from({ length: count - agents.length }, () => `agent-${nextId++}`);
        const started = await startBenchAgents(ids, {
          etcdEndpoints: stack.etcd.endpoints,
          mongoUrl: stack.mongo.url,
          database: world.database,
          prefix: world.keys.prefix,
          entry,
          extraArgs: [...installedArgs, ...agentArgs],
          nodeFlags,
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
      await fleet.resize(0, runningArgs);
      await world.close();
    },
  };
  return fleet;
}
