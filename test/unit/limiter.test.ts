import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLimiter } from '../../agent/limiter.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('limiter', () => {
  it('runs at most `concurrency` tasks at once, the rest in the order they came', async () => {
    const limiter = createLimiter(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const done = gates.map((gate, i) =>
      limiter.run(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await Promise.resolve();
    assert.deepEqual(started, [0, 1]);
    assert.equal(limiter.waiting, 2);
    gates[1]?.resolve();
    assert.equal(await done[1], 1);
    assert.deepEqual(started, [0, 1, 2]);
    gates[0]?.resolve();
    gates[2]?.resolve();
    gates[3]?.resolve();
    assert.deepEqual(await Promise.all(done), [0, 1, 2, 3]);
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.equal(limiter.waiting, 0);
  });

  it('frees the slot of a task that fails, and passes the failure on', async () => {
    const limiter = createLimiter(1);
    const failing = limiter.run(() => Promise.reject(new Error('etcd down')));
    const next = limiter.run(() => Promise.resolve('ran'));
    await assert.rejects(failing, /etcd down/);
    assert.equal(await next, 'ran');
  });

  it('refuses a concurrency that is not a positive integer', () => {
    assert.throws(() => createLimiter(0), RangeError);
    assert.throws(() => createLimiter(1.5), RangeError);
  });
});
