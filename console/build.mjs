// Builds the console into dist/console/ at the repository root, next to the agent bundle in
// dist/agent/ (or into the folder given as the first argument): src/main.ts and src/styles.css
// bundled and minified by esbuild, next to a copy of src/index.html. The output is plain static
// files with no external references, so it works offline.
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const consoleDir = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(consoleDir, '../dist/console'));

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await build({
  entryPoints: [join(consoleDir, 'src/main.ts'), join(consoleDir, 'src/styles.css')],
  outdir: outDir,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome111', 'firefox113', 'safari16.4'],
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(join(consoleDir, 'src/index.html'), join(outDir, 'index.html'));

let gzipBytes = 0;
for (const file of ['index.html', 'main.js', 'styles.css']) {
  gzipBytes += gzipSync(await readFile(join(outDir, file))).length;
}
console.log(`console built into ${outDir} (${(gzipBytes / 1024).toFixed(1)} KiB gzipped)`);
