/** Runs every data-port contract against the direct adapter and the relay client alike. */
import { after, before, describe } from 'node:test';
import type { Stack } from '../stack/index.ts';
import { startStack } from '../stack/index.ts';
import { ADAPTERS, openDataWorld } from './data-world.ts';
import { jobStoreContract } from './job-store.contract.ts';
import { runLogReaderContract } from './run-log-reader.contract.ts';
import { healthProbeContract, workerDirectoryContract } from './worker-directory.contract.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.stop());

for (const adapter of ADAPTERS) {
  describe(`data ports through the ${adapter} adapter`, () => {
    const open = () => openDataWorld(stack, adapter);
    describe('job store', () => jobStoreContract(open));
    describe('run-log reader', () => runLogReaderContract(open));
    describe('worker directory', () => workerDirectoryContract(open));
    describe('health probe', () => healthProbeContract(open));
  });
}
