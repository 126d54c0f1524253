/**
 * The runtime-neutral part of the control plane (app, routes, relay client) bundles for a
 * Worker: no `node:*` module, no etcd3/mongodb/@hono/node-server. The edge tsconfig catches
 * Node globals, but not an import of a Node-only package whose typings pull Node's types in
 * (etcd3's do), so this checks the real module graph.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { it } from 'node:test';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE_ONLY = /(^|\/)node_modules\/(etcd3|mongodb|@hono\/node-server|@grpc)\//;

it('bundles the app and the relay client for the edge without Node-only modules', async () => {
  const result = await build({
    entryPoints: [
      resolve(ROOT, 'control-plane/app.ts'),
      resolve(ROOT, 'control-plane/adapters/relay-client/relay-ports.ts'),
      resolve(ROOT, 'control-plane/adapters/relay-client/relay-client.ts'),
    ],
    bundle: true,
    write: false,
    outdir: 'out',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser', 'import'],
    // cron-parser's index loads its CronFileParser, which requires fs at load time although
    // nothing here reads files; on Workers `nodejs_compat` provides the module. Only these two
    // are let through, so any other Node import still fails the build.
    external: ['fs', 'fs/promises'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
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
