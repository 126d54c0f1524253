/**
 * A scenario's summary row: its books summed over jobs, what it measured, and which guarantees it
 * saw broken. Each scenario appends its row (JSON, one line) to `CHAOS_RESULTS_FILE` before it
 * asserts, so a failing scenario still reports its numbers; run.ts prints the table.
 */
import { appendFileSync } from 'node:fs';
import { formatRanges, iso, type JobBooks } from './ledger.ts';

export interface ScenarioSummary {
  readonly scenario: string;
  readonly ticksDue: number;
  readonly runs: number;
  readonly duplicates: number;
  readonly skips: number;
  readonly skipReasons: Readonly<Record<string, number>>;
  /** Skips no `skipped` record covers (the product's own account of them). */
  readonly unrecordedSkips: number;
  readonly recordedSkipReasons: Readonly<Record<string, number>>;
  readonly lostLogs: number;
  readonly duplicatedLogs: number;
  readonly lostRuns: number;
  readonly overlaps: number;
  /** Measured durations, ms. */
  readonly timings: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  /** Guarantees this scenario saw broken, in words; empty when none. */
  readonly violations: readonly string[];
}

export function summarize(
  scenario: string,
  books: readonly JobBooks[],
  extra: {
    timings?: Record<string, number>;
    /** Overlapping forbid processes measured from a job's own timeline (see lib/timeline.ts). */
    processOverlaps?: number;
    notes?: string[];
    violations?: string[];
  } = {},
): ScenarioSummary {
  const merge = (
    pick: (b: JobBooks) => Readonly<Record<string, number>>,
  ): Record<string, number> => {
    const merged: Record<string, number> = {};
    for (const b of books) {
      for (const [reason, count] of Object.entries(pick(b)))
        merged[reason] = (merged[reason] ?? 0) + count;
    }
    return merged;
  };
  const sum = (f: (b: JobBooks) => number): number => books.reduce((n, b) => n + f(b), 0);
  const notes = [...(extra.notes ?? [])];
  for (const b of books) {
    if (b.skipRanges.length > 0) notes.push(`${b.job} skipped ${formatRanges(b.skipRanges)}`);
    if (b.unrecordedTicks.length > 0)
      notes.push(
        `${b.job} skipped without a skipped record: ${b.unrecordedTicks.map(iso).join(', ')}`,
      );
    if (b.lostLogs.length > 0) notes.push(`${b.job} lost logs: ${b.lostLogs.join(', ')}`);
    if (b.duplicateTicks.length > 0)
      notes.push(
        `${b.job} ran twice: ${b.duplicateTicks.map((t) => new Date(t).toISOString()).join(', ')}`,
      );
    for (const overlap of b.overlaps) notes.push(`${b.job} overlap: ${overlap}`);
  }
  return {
    scenario,
    ticksDue: sum((b) => b.ticksDue),
    runs: sum((b) => b.runs),
    duplicates: sum((b) => b.duplicates),
    skips: sum((b) => b.skips),
    skipReasons: merge((b) => b.skipReasons),
    unrecordedSkips: sum((b) => b.unrecordedSkips),
    recordedSkipReasons: merge((b) => b.recordedReasons),
    lostLogs: sum((b) => b.lostLogs.length),
    duplicatedLogs: sum((b) => b.duplicatedLogs),
    lostRuns: sum((b) => b.lostRuns),
    // Records and the processes' own timeline see the same overlaps; the larger count wins.
    overlaps: Math.max(
      sum((b) => b.overlaps.length),
      extra.processOverlaps ?? 0,
    ),
    timings: extra.timings ?? {},
    notes,
    violations: extra.violations ?? [],
  };
}

/** Appends the row for run.ts and prints it, so a scenario run on its own shows it too. */
export function report(summary: ScenarioSummary): void {
  const file = process.env.CHAOS_RESULTS_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(summary)}\n`);
  process.stderr.write(`${formatTable([summary])}\n${formatDetails([summary])}\n`);
}

function reasons(summary: ScenarioSummary): string {
  const entries = Object.entries(summary.skipReasons);
  return entries.length === 0 ? '-' : entries.map(([r, n]) => `${n} ${r}`).join('; ');
}

/** Columns: skips = due ticks without a run (reasons from agent events); unrecorded = skips no
 * `skipped` record covers; lost runs = records of status `lost`; overlaps = forbid runs whose
 * recorded [start, end] intersect. */
export function formatTable(rows: readonly ScenarioSummary[]): string {
  const header = [
    'scenario',
    'ticks due',
    'runs',
    'dup',
    'skips',
    'unrecorded',
    'lost logs',
    'dup logs',
    'lost runs',
    'overlaps',
    'skip reasons',
  ];
  const body = rows.map((r) => [
    r.scenario,
    String(r.ticksDue),
    String(r.runs),
    String(r.duplicates),
    String(r.skips),
    String(r.unrecordedSkips),
    String(r.lostLogs),
    String(r.duplicatedLogs),
    String(r.lostRuns),
    String(r.overlaps),
    reasons(r),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

export function formatDetails(rows: readonly ScenarioSummary[]): string {
  return rows
    .map((r) => {
      const timings = Object.entries(r.timings)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`)
        .join(', ');
      const lines = [`${r.scenario}:`];
      if (timings) lines.push(`  timings: ${timings}`);
      const recorded = Object.entries(r.recordedSkipReasons);
      if (recorded.length > 0)
        lines.push(
          `  skipped records: ${recorded.map(([why, n]) => `${n} ticks "${why}"`).join('; ')}`,
        );
      for (const note of r.notes) lines.push(`  - ${note}`);
      for (const v of r.violations) lines.push(`  VIOLATION: ${v}`);
      return lines.join('\n');
    })
    .join('\n');
}
