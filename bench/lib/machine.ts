/** The machine a run measured: cores, memory, runtimes, server versions, load. */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { MongoClient } from 'mongodb';
import type { Stack } from '../../test/stack/index.ts';

export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly etcd: string;
  readonly mongoKind: string;
  readonly mongoVersion: string;
  readonly commit: string;
}

function firstLine(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return (result.stdout || result.stderr || '').split('\n')[0]?.trim() ?? '';
}

/** `Server version …` of the MongoDB-wire server; FerretDB also names its own version. */
async function mongoVersion(url: string): Promise<string> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const ferret = (info.ferretdbVersion ?? (info.ferretdb as { version?: unknown })?.version) as
      string | undefined;
    const wire = typeof info.version === 'string' ? info.version : '?';
    return ferret === undefined ? wire : `FerretDB ${ferret} (wire ${wire})`;
  } catch (error) {
    return `unknown (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.close();
  }
}

export async function describeMachine(stack: Stack): Promise<Machine> {
  const etcd = firstLine('etcd', ['--version']).replace(/^etcd Version:\s*/, '');
  const commit = firstLine('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = firstLine('git', ['status', '--porcelain']) === '' ? '' : ' (uncommitted changes)';
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    etcd,
    mongoKind: stack.mongo.kind,
    mongoVersion: await mongoVersion(stack.mongo.url),
    commit: `${commit}${dirty}`,
  };
}

/** The 1-, 5- and 15-minute load averages, rounded. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg().map((x) => Math.round(x * 100) / 100);
  return [a, b, c];
}
