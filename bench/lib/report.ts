/** What a figure reports: rows for the table (each against its target) and raw data for JSON. */

/** `met`/`not met` against a target; `info` has no target; `n/a` could not be measured. */
export type Verdict = 'met' | 'not met' | 'info' | 'n/a' | 'error';

export interface Row {
  readonly measure: string;
  readonly value: string;
  readonly target: string;
  readonly verdict: Verdict;
  /** Why it is n/a, what limits a miss, or how it was measured when that is not obvious. */
  readonly note?: string;
}

export interface FigureResult {
  readonly id: number;
  readonly title: string;
  readonly rows: Row[];
  readonly data: Record<string, unknown>;
  readonly durationS: number;
}

export function judge(ok: boolean): Verdict {
  return ok ? 'met' : 'not met';
}

const HEADERS = ['#', 'figure', 'measure', 'value', 'target', 'result'] as const;

/** A plain-text table, one row per measure, notes indented under their row. */
export function renderTable(figures: readonly FigureResult[]): string {
  const lines: string[][] = [];
  const notes = new Map<number, string>();
  for (const figure of figures) {
    figure.rows.forEach((row, i) => {
      if (row.note !== undefined) notes.set(lines.length, row.note);
      lines.push([
        i === 0 ? String(figure.id) : '',
        i === 0 ? figure.title : '',
        row.measure,
        row.value,
        row.target,
        row.verdict,
      ]);
    });
  }
  const widths = HEADERS.map((header, col) =>
    Math.max(header.length, ...lines.map((line) => (line[col] ?? '').length)),
  );
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [render(HEADERS), widths.map((w) => '-'.repeat(w)).join('  ')];
  lines.forEach((line, i) => {
    out.push(render(line));
    const note = notes.get(i);
    if (note !== undefined) out.push(`${' '.repeat((widths[0] ?? 0) + 2)}  ↳ ${note}`);
  });
  return out.join('\n');
}
