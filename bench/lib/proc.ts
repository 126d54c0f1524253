/** Reading processes from /proc: resident memory, CPU time, and the processes of a run. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux we target). */
const USER_HZ = 100;

function statusField(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Resident set size in MiB. */
export function rssMiB(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Peak resident set size in MiB. */
export function peakRssMiB(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name may contain spaces and parentheses; fields resume after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of the full line, utime 14, stime 15 (1-based).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / USER_HZ;
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose environment carries CRONPLANE_RUN_ID=<runId> (the shell and children). */
export async function processesOfRun(runId: string): Promise<number[]> {
  const needle = `CRONPLANE_RUN_ID=${runId}\0`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) {
        if (isAlive(Number(entry))) pids.push(Number(entry));
      }
    } catch {
      // ended while we looked, or not ours to read
    }
  }
  return pids;
}

/** Total bytes of the files directly in `dir` (0 when it does not exist). */
export function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) {
      try {
        total += statSync(join(dir, name)).size;
      } catch {
        // removed while we looked
      }
    }
  } catch {
    return 0;
  }
  return total;
}

export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

/** Machine-wide CPU jiffies from /proc/stat (all cores): busy (not idle or iowait) and total. */
export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? '';
  const [, ...fields] = line.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Share of all cores busy between two readings, in %. */
export function busyPercent(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * 100 : NaN;
}

/** cpuSeconds, or NaN when the process is gone (or was never found). */
export function cpuSecondsOrNaN(pid: number | undefined): number {
  if (pid === undefined || pid <= 0) return NaN;
  try {
    return cpuSeconds(pid);
  } catch {
    return NaN;
  }
}

/** rssMiB, or NaN when the process is gone. */
export function rssMiBOrNaN(pid: number | undefined): number {
  if (pid === undefined || pid <= 0) return NaN;
  try {
    return rssMiB(pid);
  } catch {
    return NaN;
  }
}

/**
 * The kernel's name of cronplane-launcher: `comm` keeps the first 15 bytes of the executable's
 * name (TASK_COMM_LEN), also for the versioned names the agent bundle ships.
 */
export const LAUNCHER_COMM = 'cronplane-launc';

/**
 * Live children of `parentPid` whose `comm` is `comm`, found by scanning /proc for their parent
 * id (/proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN, which not every kernel has).
 */
export function childrenNamed(parentPid: number, comm: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== comm) continue;
      // After the name: state, then ppid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return pids;
}

/** The agent's launcher (its child cronplane-launcher), if it runs one. */
export function launcherOf(agentPid: number): number | undefined {
  return childrenNamed(agentPid, LAUNCHER_COMM)[0];
}
