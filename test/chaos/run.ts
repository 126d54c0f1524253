/**
 * @module The chaos suite: runs each scenario file (test/chaos/*.chaos.ts) on its own under
 * node's test runner, one after another (each starts its own stack and breaks it), then prints
 * the summary table the scenarios reported.
 *
 *   node --import tsx test/chaos/run.ts [--quick] [--regressions] [name-filter …]
 *
 * --quick        shorter workloads and fewer fuzz cases (CI); outages keep their length
 * --regressions  also the minimal regression tests (always included without --quick)
 * name-filter    only files whose name contains one of these
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { formatDetails, formatTable, type ScenarioSummary } from './lib/summary.ts';

const SCENARIOS = [
  'etcd-leader-kill.chaos.ts',
  'etcd-outage.chaos.ts',
  'agent-freeze.chaos.ts',
  'mongo-outage.chaos.ts',
  'state-dir-full.chaos.ts',
  'rolling-restart.chaos.ts',
  // Last: it exercises the control plane and relay, which the agent scenarios do not need.
  'api-fuzz.chaos.ts',
];
const REGRESSIONS = 'regressions.chaos.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const withRegressions = !quick || args.includes('--regressions');
const filters = args.filter((a) => !a.startsWith('--'));
const files = [...SCENARIOS, ...(withRegressions ? [REGRESSIONS] : [])].filter(
  (file) => filters.length === 0 || filters.some((f) => file.includes(f)),
);
if (files.length === 0) {
  console.error(`no chaos file matches ${filters.join(', ')}`);
  process.exit(2);
}

const resultsDir = mkdtempSync(join(tmpdir(), 'cronplane-chaos-results-'));
const resultsFile = join(resultsDir, 'summaries.jsonl');

function runFile(file: string): Promise<{ code: number | null; ms: number }> {
  const path = join(import.meta.dirname, file);
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', relative(process.cwd(), path)],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          CHAOS_RESULTS_FILE: resultsFile,
          CHAOS_QUICK: quick ? '1' : '0',
        },
      },
    );
    // Ctrl-C reaches the child through the terminal's process group; nothing to forward.
    child.on('exit', (code) => resolve({ code, ms: performance.now() - startedAt }));
  });
}

const outcomes: { file: string; code: number | null; ms: number }[] = [];
const suiteStartedAt = performance.now();
for (const file of files) {
  process.stderr.write(`\n=== chaos: ${file}${quick ? ' (quick)' : ''} ===\n`);
  outcomes.push({ file, ...(await runFile(file)) });
}
const totalMs = performance.now() - suiteStartedAt;

let summaries: ScenarioSummary[] = [];
try {
  summaries = readFileSync(resultsFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ScenarioSummary)
    .sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', { numeric: true }));
} catch {
  // No scenario got as far as its summary.
}
rmSync(resultsDir, { recursive: true, force: true });

const lines = [
  '',
  `=== chaos summary (${quick ? 'quick' : 'full'}, ${(totalMs / 1000).toFixed(0)} s) ===`,
  formatTable(summaries),
  '',
  formatDetails(summaries),
  '',
  ...outcomes.map(
    (o) => `${o.code === 0 ? 'PASS' : 'FAIL'}  ${o.file}  ${(o.ms / 1000).toFixed(1)} s`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(outcomes.every((o) => o.code === 0) ? 0 : 1);
