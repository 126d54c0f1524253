/**
 * One isolated world per scenario: its own key prefix and database, etcd and MongoDB clients to
 * act and observe with, and every agent process it ever started (restarts included), so that the
 * ledger can read the events of agents that have since died.
 */
import { Etcd3 } from 'etcd3';
import { MongoClient, type Db } from 'mongodb';
import { readRunningEntry, type RunningEntry } from '../../../core/coordination.ts';
import { createKeyLayout, type KeyLayout } from '../../../core/keys.ts';
import type { RunRecord } from '../../../core/run-log.ts';
import {
  startAgentProcess,
  type AgentEvent,
  type AgentProcess,
  type AgentProcessOptions,
} from '../../agent/agent-process.ts';
import { uniqueDatabase, uniquePrefix, waitUntil } from '../../stack/index.ts';

export interface WorldOptions {
  readonly etcdEndpoints: readonly string[];
  readonly mongoUrl: string;
}

/** An agent event with the id of the agent process that emitted it. */
export interface SeenEvent extends AgentEvent {
  readonly agentId: string;
  /** Which life of the agent (0 for the first process, 1 after one restart, …). */
  readonly life: number;
}

export interface World extends AsyncDisposable {
  readonly prefix: string;
  readonly database: string;
  readonly keys: KeyLayout;
  readonly etcd: Etcd3;
  readonly db: Db;
  putJob(job: Record<string, unknown> & { name: string }): Promise<void>;
  deleteJob(name: string): Promise<void>;
  startAgent(agentId: string, options?: Partial<AgentProcessOptions>): AgentProcess;
  startAgents(
    ids: readonly string[],
    options?: Partial<AgentProcessOptions>,
  ): Promise<AgentProcess[]>;
  /** The newest process of each agent id. */
  current(agentId: string): AgentProcess;
  /** Every process started, oldest first. */
  readonly processes: readonly AgentProcess[];
  /** Every event of every process, in arrival order per process. */
  events(): SeenEvent[];
  /** Resolves with the first event of `name` from any current agent matching `match`. */
  waitForAnyEvent(
    name: string,
    match: (event: SeenEvent) => boolean,
    timeoutMs: number,
  ): Promise<SeenEvent>;
  runs(jobName: string): Promise<RunRecord[]>;
  allRuns(): Promise<RunRecord[]>;
  runningEntries(jobName: string): Promise<RunningEntry[]>;
  /** Waits until every run any agent started has a record in MongoDB. */
  waitForLogs(timeoutMs: number): Promise<{ missing: string[]; waitedMs: number }>;
  close(): Promise<void>;
}

export function createWorld(options: WorldOptions): World {
  const prefix = uniquePrefix();
  const database = uniqueDatabase();
  const keys = createKeyLayout(prefix);
  const etcd = new Etcd3({ hosts: [...options.etcdEndpoints] });
  const mongo = new MongoClient(options.mongoUrl, { serverSelectionTimeoutMS: 20_000 });
  const db = mongo.db(database);
  const processes: AgentProcess[] = [];

  const events = (): SeenEvent[] =>
    processes.flatMap((agent, index) => {
      const life = processes.slice(0, index).filter((p) => p.agentId === agent.agentId).length;
      return agent.events.map((event) => ({ ...event, agentId: agent.agentId, life }));
    });

  const world: World = {
    prefix,
    database,
    keys,
    etcd,
    db,
    processes,
    async putJob(job) {
      await etcd.put(keys.job(job.name)).value(JSON.stringify(job));
    },
    async deleteJob(name) {
      await etcd.delete().key(keys.job(name));
    },
    startAgent(agentId, agentOptions = {}) {
      const agent = startAgentProcess({
        etcdEndpoints: options.etcdEndpoints,
        mongoUrl: options.mongoUrl,
        database,
        prefix,
        agentId,
        ...agentOptions,
      });
      processes.push(agent);
      return agent;
    },
    async startAgents(ids, agentOptions = {}) {
      const started = ids.map((id) => world.startAgent(id, agentOptions));
      await Promise.all(started.map((agent) => agent.waitForEvent('agent:ready', () => true)));
      return started;
    },
    current(agentId) {
      const agent = processes.findLast((p) => p.agentId === agentId);
      if (!agent) throw new Error(`no agent ${agentId} was started`);
      return agent;
    },
    events,
    async waitForAnyEvent(name, match, timeoutMs) {
      return waitUntil(() => events().find((e) => e.event === name && match(e)), {
        timeoutMs,
        what: `an agent event ${name}`,
        intervalMs: 50,
      });
    },
    async runs(jobName) {
      return db
        .collection<RunRecord>('log')
        .find({ jobName }, { projection: { _id: 0 } })
        .sort({ planTime: 1 })
        .toArray();
    },
    async allRuns() {
      return db
        .collection<RunRecord>('log')
        .find({}, { projection: { _id: 0 } })
        .sort({ planTime: 1 })
        .toArray();
    },
    async runningEntries(jobName) {
      const listed = await etcd.getAll().prefix(keys.runningOfJob(jobName)).strings();
      return Object.values(listed).flatMap((value) => {
        const entry = readRunningEntry(value);
        return entry ? [entry] : [];
      });
    },
    async waitForLogs(timeoutMs) {
      const startedAt = performance.now();
      const started = (): string[] =>
        events()
          .filter((e) => e.event === 'run:started')
          .map((e) => String(e.runId));
      let missing: string[] = started();
      try {
        await waitUntil(
          async () => {
            const ids = new Set((await world.allRuns()).map((r) => r.runId));
            missing = started().filter((id) => !ids.has(id));
            return missing.length === 0;
          },
          { timeoutMs, what: 'every started run to have a record', intervalMs: 250 },
        );
      } catch {
        // Reported by the caller as lost logs.
      }
      return { missing, waitedMs: Math.round(performance.now() - startedAt) };
    },
    async close() {
      await Promise.all(processes.map((agent) => agent.stop('SIGKILL')));
      etcd.close();
      await mongo.close();
    },
    [Symbol.asyncDispose]: () => world.close(),
  };
  return world;
}

/** Milliseconds since the epoch of an agent event (its `t` field). */
export function eventTime(event: AgentEvent): number {
  return typeof event.t === 'string' ? Date.parse(event.t) : NaN;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
