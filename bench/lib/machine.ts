/** The machine a run measured: cores, memory, runtimes, server versions, load. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { MongoClient } from 'mongodb';
import { etcdCommand, type Stack } from '../../test/stack/index.ts';

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

/**
 * The server's wire version; for FerretDB also its own version, from buildInfo or else from the
 * binary's name (scripts/build-ferretdb.sh builds `ferretdb-v1.24.2`, which reports "unknown").
 */
async function mongoVersion(stack: Stack): Promise<string> {
  const client = new MongoClient(stack.mongo.url, { serverSelectionTimeoutMS: 5_000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const wire = typeof info.version === 'string' ? info.version : '?';
    if (stack.mongo.kind !== 'ferretdb') return `${stack.mongo.kind} ${wire}`;
    let ferret = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : 'unknown';
    if (ferret === 'unknown' && stack.mongo.pid !== undefined) {
      const binary =
        readFileSync(`/proc/${stack.mongo.pid}/cmdline`, 'latin1').split('\0')[0] ?? '';
      ferret = /v\d+\.\d+\.\d+/.exec(basename(binary))?.[0] ?? ferret;
    }
    return `FerretDB ${ferret} (SQLite backend, wire ${wire})`;
  } catch (error) {
    return `unknown (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.close();
  }
}

export async function describeMachine(stack: Stack): Promise<Machine> {
  const etcd = firstLine(etcdCommand(), ['--version']).replace(/^etcd Version:\s*/, '');
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
    mongoVersion: await mongoVersion(stack),
    commit: `${commit}${dirty}`,
  };
}

/** The 1-, 5- and 15-minute load averages, rounded. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg().map((x) => Math.round(x * 100) / 100);
  return [a, b, c];
}
