/**
 * One isolated world per test on a shared stack: its own key prefix and database, an etcd and a
 * MongoDB client to act and observe with, and the real agent processes it started.
 */
import { Etcd3 } from 'etcd3';
import { MongoClient, type Db } from 'mongodb';
import { createKeyLayout, type KeyLayout } from '../../core/keys.ts';
import type { RunRecord } from '../../core/run-log.ts';
import { uniqueDatabase, uniquePrefix, waitUntil, type Stack } from '../stack/index.ts';
import { startAgentProcess, type AgentProcess, type AgentProcessOptions } from './agent-process.ts';

export interface Fixture extends AsyncDisposable {
  readonly prefix: string;
  readonly database: string;
  readonly keys: KeyLayout;
  readonly etcd: Etcd3;
  readonly db: Db;
  putJob(job: Record<string, unknown> & { name: string }): Promise<void>;
  deleteJob(name: string): Promise<void>;
  startAgent(agentId: string, options?: Partial<AgentProcessOptions>): AgentProcess;
  /** Starts agents and waits until each is scheduling. */
  startAgents(
    ids: readonly string[],
    options?: Partial<AgentProcessOptions>,
  ): Promise<AgentProcess[]>;
  runs(jobName: string): Promise<RunRecord[]>;
  waitForRuns(jobName: string, count: number, timeoutMs: number): Promise<RunRecord[]>;
  close(): Promise<void>;
}

export function createFixture(stack: Stack): Fixture {
  const prefix = uniquePrefix();
  const database = uniqueDatabase();
  const keys = createKeyLayout(prefix);
  const etcd = new Etcd3({ hosts: stack.etcd.endpoints });
  const mongo = new MongoClient(stack.mongo.url, { serverSelectionTimeoutMS: 20_000 });
  const db = mongo.db(database);
  const agents: AgentProcess[] = [];

  const fixture: Fixture = {
    prefix,
    database,
    keys,
    etcd,
    db,
    async putJob(job) {
      await etcd.put(keys.job(job.name)).value(JSON.stringify(job));
    },
    async deleteJob(name) {
      await etcd.delete().key(keys.job(name));
    },
    startAgent(agentId, options = {}) {
      const agent = startAgentProcess({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
        database,
        prefix,
        agentId,
        ...options,
      });
      agents.push(agent);
      return agent;
    },
    async startAgents(ids, options = {}) {
      const started = ids.map((id) => fixture.startAgent(id, options));
      await Promise.all(started.map((agent) => agent.waitForEvent('agent:ready')));
      return started;
    },
    async runs(jobName) {
      return db
        .collection<RunRecord>('log')
        .find({ jobName }, { projection: { _id: 0 } })
        .sort({ planTime: 1 })
        .toArray();
    },
    async waitForRuns(jobName, count, timeoutMs) {
      return waitUntil(
        async () => {
          const runs = await fixture.runs(jobName);
          return runs.length >= count ? runs : null;
        },
        { timeoutMs, what: `${count} run records of ${jobName}`, intervalMs: 100 },
      );
    },
    async close() {
      await Promise.all(agents.map((agent) => agent.stop('SIGKILL')));
      etcd.close();
      await mongo.close();
    },
    [Symbol.asyncDispose]: () => fixture.close(),
  };
  return fixture;
}

/** Asserts-free summary of planTimes: duplicates and gaps between consecutive 1-second ticks. */
export function tickReport(
  runs: readonly RunRecord[],
  periodMs = 1_000,
): { duplicates: number[]; gaps: number[] } {
  const seen = new Set<number>();
  const duplicates: number[] = [];
  for (const run of runs) {
    if (seen.has(run.planTime)) duplicates.push(run.planTime);
    seen.add(run.planTime);
  }
  const ticks = [...seen].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < ticks.length; i++) {
    const prev = ticks[i - 1] as number;
    const tick = ticks[i] as number;
    if (tick - prev !== periodMs) gaps.push(prev);
  }
  return { duplicates, gaps };
}
