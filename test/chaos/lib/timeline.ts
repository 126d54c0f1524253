/**
 * What the job's own processes saw: a command that appends `start <runId> <ms>` and
 * `end <runId> <ms>` lines to a shared file around its work. Records say what the agents believe;
 * the timeline says whether two processes of a `forbid` job really ran at the same time.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface ProcessSpan {
  readonly runId: string;
  readonly startMs: number;
  /** The job's shell (its process group leader). */
  readonly pid: number;
  /** When it wrote its end line or, killed, was seen gone; undefined while it runs. */
  readonly endMs: number | undefined;
}

export interface ProcessOverlap {
  readonly a: string;
  readonly b: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Waits, outside the job's process group and session (so a kill of the group does not reach it),
 * until the shell `$1` is gone or a zombie, then appends `gone <runId> <ms>`. It gives a killed
 * process, which writes no end line, a span that ends when it really died.
 */
const DEATH_WITNESS =
  'while [ -e /proc/$1 ] && [ "$(cut -d")" -f2 /proc/$1/stat 2>/dev/null | cut -c2)" != Z ]; ' +
  'do sleep 0.02; done; echo "gone $2 $(date +%s%3N)" >> "$3"';

/** A shell command that records its span in `file` and does `work` in between. */
export function timelineCommand(file: string, work: string): string {
  return (
    `setsid sh -c '${DEATH_WITNESS}' witness $$ "$CRONPLANE_RUN_ID" '${file}' ` +
    `</dev/null >/dev/null 2>&1 & ` +
    `echo "start $CRONPLANE_RUN_ID $(date +%s%3N) $$" >> '${file}'; ${work}; ` +
    `echo "end $CRONPLANE_RUN_ID $(date +%s%3N)" >> '${file}'; echo "$CRONPLANE_RUN_ID"`
  );
}

/**
 * The spans in `file`. A process killed (SIGKILL to its group) writes no end line; its witness's
 * `gone` line ends the span. Run records are not used: a `lost` record's end is when someone
 * noticed the agent was gone, and the process may well have run on.
 */
export function readTimeline(file: string): ProcessSpan[] {
  if (!existsSync(file)) return [];
  const starts = new Map<string, { startMs: number; pid: number }>();
  const ends = new Map<string, number>();
  const gone = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, runId, ms, pid] = line.split(' ');
    if (!runId || !ms) continue;
    if (kind === 'start') starts.set(runId, { startMs: Number(ms), pid: Number(pid) });
    if (kind === 'end') ends.set(runId, Number(ms));
    if (kind === 'gone') gone.set(runId, Number(ms));
  }
  return [...starts].map(([runId, { startMs, pid }]) => ({
    runId,
    startMs,
    pid,
    endMs: ends.get(runId) ?? gone.get(runId),
  }));
}

/** Whether a process (e.g. a span's shell) is alive now; a zombie is not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // "pid (comm) S …": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Pairs of spans that intersect; an open span counts as running until `nowMs`. */
export function processOverlaps(spans: readonly ProcessSpan[], nowMs: number): ProcessOverlap[] {
  const sorted = [...spans].sort((x, y) => x.startMs - y.startMs);
  const overlaps: ProcessOverlap[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i] as ProcessSpan;
    const aEnd = a.endMs ?? nowMs;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j] as ProcessSpan;
      if (b.startMs >= aEnd) break;
      overlaps.push({
        a: a.runId,
        b: b.runId,
        fromMs: b.startMs,
        toMs: Math.min(aEnd, b.endMs ?? nowMs),
      });
    }
  }
  return overlaps;
}
