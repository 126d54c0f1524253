/**
 * What every figure gets: the stack, the mode, a progress log, the fleet they share, and a
 * shorthand for a steady load on it (jobs every 1, 2 or 5 s, staggered over the period).
 */
import type { Stack } from '../../test/stack/index.ts';
import { openFleet, type Fleet } from './fleet.ts';
import { padded, type BenchJob } from './jobs.ts';
import { measureReference, type ReferenceResult } from './launch-reference.ts';
import { runFleetLoad, type LoadResult } from './load.ts';

export interface SteadyLoad {
  /** Names the jobs (`<name>-00042`), so loads never share a job. */
  readonly name: string;
  readonly agents: number;
  readonly jobs: number;
  /** Each job fires every this many seconds; jobs are spread evenly over the period. */
  readonly everySeconds: 1 | 2 | 5;
  readonly windowSeconds: number;
  /** The agents' arguments (default FLEET_AGENT_ARGS); the fleet restarts when they change. */
  readonly agentArgs?: readonly string[];
  /**
   * `records` (default): duplicates and missed ticks from MongoDB's records, waited for;
   * `events`: from the agents' run:started events only, without waiting for MongoDB.
   */
  readonly verify?: 'records' | 'events';
  /** Every job's command (default `true`). */
  readonly command?: string;
}

/** The command of every launch-path load and of the reference launcher. */
export const LAUNCH_COMMAND = 'echo tick';

export interface BenchContext {
  readonly quick: boolean;
  readonly stack: Stack;
  readonly log: (message: string) => void;
  fleet(): Promise<Fleet>;
  closeFleet(): Promise<void>;
  steadyLoad(load: SteadyLoad): Promise<LoadResult>;
  /**
   * What this machine can launch (bench/launch-reference running LAUNCH_COMMAND): measured the
   * first time a figure asks (2,000 runs, --quick 1,000), then the same answer for the run.
   */
  launchReference(): Promise<ReferenceResult>;
}

export interface ContextOptions {
  readonly quick: boolean;
  readonly stack: Stack;
  readonly log: (message: string) => void;
  readonly profileDir?: string;
}

export function runsPerSecond(load: SteadyLoad): number {
  return load.jobs / load.everySeconds;
}

export function jobsOf(load: SteadyLoad, command?: string): BenchJob[] {
  return Array.from({ length: load.jobs }, (_, i) => ({
    name: padded(load.name, i),
    cronExpr:
      load.everySeconds === 1
        ? '* * * * * *'
        : `${i % load.everySeconds}/${load.everySeconds} * * * * *`,
    ...(command !== undefined ? { command } : {}),
  }));
}

export function createContext(options: ContextOptions): BenchContext {
  let fleet: Promise<Fleet> | undefined;
  let reference: Promise<ReferenceResult> | undefined;
  const context: BenchContext = {
    quick: options.quick,
    stack: options.stack,
    log: options.log,
    fleet() {
      fleet ??= openFleet(options.stack, {
        ...(options.profileDir !== undefined ? { profileDir: options.profileDir } : {}),
      });
      return fleet;
    },
    async closeFleet() {
      const open = fleet;
      fleet = undefined;
      await (await open)?.close();
    },
    async steadyLoad(load) {
      options.log(
        `steady load: ${load.jobs} jobs every ${load.everySeconds} s on ${load.agents} agent(s), ${load.windowSeconds} s`,
      );
      return runFleetLoad(options.stack, await context.fleet(), {
        agents: load.agents,
        ...(load.agentArgs !== undefined ? { agentArgs: load.agentArgs } : {}),
        ...(load.verify !== undefined ? { verify: load.verify } : {}),
        jobs: jobsOf(load, load.command),
        // Every job fires once before the window: a job's first claim also creates its tick key.
        warmupMs: load.everySeconds * 1000 + 1000,
        windowMs: load.windowSeconds * 1000,
        deleteJobs: 'at-window-end',
        measureWrites: true,
        recordsTimeoutMs: options.quick ? 30_000 : 300_000,
        claimsPossibleForMs: 0,
        log: options.log,
      });
    },
    launchReference() {
      reference ??= (async () => {
        const runs = options.quick ? 1_000 : 2_000;
        options.log(`reference launcher: ${runs} runs of \`${LAUNCH_COMMAND}\`, 32 in flight`);
        const result = await measureReference({
          runs,
          inflight: 32,
          shell: '/bin/bash',
          command: LAUNCH_COMMAND,
        });
        options.log(
          `  ${Math.round(result.runsPerSecond)} runs/s (${result.seconds.toFixed(2)} s)`,
        );
        return result;
      })();
      return reference;
    },
  };
  return context;
}
