/** The FerretDB binary, built once by scripts/build-ferretdb.sh and cached under .cache/. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-ferretdb.sh', import.meta.url));

let binary: Promise<string> | undefined;

/**
 * Resolves with the binary's path, building it first if needed (about 90 s cold, instant
 * cached). Async rather than spawnSync: a blocked event loop would starve etcd's readiness
 * probe, which starts in parallel. The build's progress goes to our stderr.
 */
export function ferretdbBinary(): Promise<string> {
  binary ??= build().catch((error: unknown) => {
    binary = undefined;
    throw error;
  });
  return binary;
}

function build(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const path = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && path !== '') resolve(path);
      else reject(new Error(`bash ${BUILD_SCRIPT} failed with code ${String(code)}: ${stdout}`));
    });
  });
}
