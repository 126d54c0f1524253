// Type-checks every folder against its own tsconfig, so each sees only the globals it may use.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const projects = [];
for (const dir of [
  'core',
  'control-plane',
  'relay',
  'agent',
  'cli',
  'console',
  'test',
  'bench',
  'scripts',
]) {
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir)) {
    if (/^tsconfig(\..+)?\.json$/.test(file)) projects.push(`${dir}/${file}`);
  }
}
let failed = false;
for (const project of projects) {
  const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed = true;
}
if (failed) process.exit(1);
console.log(`typecheck: ${projects.length} projects clean`);
