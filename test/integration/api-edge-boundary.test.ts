/**
 * The control plane's edge build holds no Node-only module. The edge tsconfig catches Node
 * globals, but not an import of a Node-only package whose typings pull Node's types in (etcd3's
 * do), and with `nodejs_compat` wrangler would bundle one quietly (its `node:*` polyfills), so
 * these check the real module graph: esbuild's for the runtime-neutral part, and wrangler's own
 * (`wrangler deploy --dry-run`) for the Worker as it would be deployed.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import { build } from 'esbuild';
import { isRecord } from '../../core/wire.ts';
import { runWrangler } from '../stack/wrangler-dev.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE_ONLY = /(^|\/)node_modules\/(etcd3|mongodb|@hono\/node-server|@grpc|ws)\//;
// cron-parser's index loads its CronFileParser, which requires fs at load time although nothing
// here reads files; on Workers `nodejs_compat` provides the module. Only these are let through,
// so any other Node import fails.
const ALLOWED_NODE_BUILTINS = ['fs', 'fs/promises'];

function nodeBuiltins(inputs: readonly string[]): string[] {
  return inputs.flatMap((input) => {
    const match = /^(?:node:|node-built-in-modules:)(?:node:)?(.+)$/.exec(input);
    return match?.[1] === undefined || ALLOWED_NODE_BUILTINS.includes(match[1]) ? [] : [input];
  });
}

it('bundles the app, the relay client and the Worker entry without Node-only modules', async () => {
  const result = await build({
    entryPoints: [
      resolve(ROOT, 'control-plane/app.ts'),
      resolve(ROOT, 'control-plane/adapters/relay-client/relay-ports.ts'),
      resolve(ROOT, 'control-plane/adapters/relay-client/relay-client.ts'),
      resolve(ROOT, 'control-plane/entry/worker.ts'),
    ],
    bundle: true,
    write: false,
    outdir: 'out',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser', 'import'],
    external: [...ALLOWED_NODE_BUILTINS, 'cloudflare:*'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(nodeBuiltins(inputs), []);
  assert.deepEqual(
    inputs.filter((input) => input.startsWith('node:')),
    [],
  );
  assert.deepEqual(
    inputs.filter((input) => NODE_ONLY.test(input)),
    [],
  );
  assert.ok(inputs.some((input) => input.endsWith('control-plane/app.ts')));
});

it('wrangler deploy --dry-run builds the Worker, with no Node-only module in it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cronplane-worker-build-'));
  try {
    // The console's build output may not exist here; its own tests cover it.
    await mkdir(join(dir, 'assets'));
    // Fails (and so fails this test) when wrangler cannot build the Worker.
    const output = await runWrangler([
      'deploy',
      '--dry-run',
      ...['--outdir', join(dir, 'dist')],
      ...['--metafile', join(dir, 'meta.json')],
      ...['--assets', join(dir, 'assets')],
    ]);
    assert.match(output, /env\.HEALTH_HUB \(HealthHubObject\)\s+Durable Object/);
    const meta: unknown = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    assert.ok(isRecord(meta) && isRecord(meta.inputs), 'wrangler wrote no esbuild metafile');
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((input) => input.endsWith('control-plane/entry/worker.ts')));
    assert.deepEqual(nodeBuiltins(inputs), []);
    assert.deepEqual(
      inputs.filter((input) => NODE_ONLY.test(input)),
      [],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
