import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBatcher } from '../../agent/batcher.ts';

interface Item {
  readonly key: string;
  readonly value: number;
}

function recording(maxItems = 3): {
  submit: (item: Item) => Promise<number>;
  batches: number[][];
} {
  const batches: number[][] = [];
  const submit = createBatcher<Item, number>({
    maxItems,
    keyOf: (item) => item.key,
    flush(items) {
      batches.push(items.map((i) => i.value));
      return Promise.resolve(items.map((i) => i.value * 10));
    },
  });
  return { submit, batches };
}

describe('batcher', () => {
  it('sends the calls of one turn together, each caller getting its own result', async () => {
    const { submit, batches } = recording(10);
    const results = await Promise.all(
      [1, 2, 3].map((value) => submit({ key: `k${value}`, value })),
    );
    assert.deepEqual(results, [10, 20, 30]);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it('sends a full batch at once and starts another', async () => {
    const { submit, batches } = recording(2);
    const results = [1, 2, 3].map((value) => submit({ key: `k${value}`, value }));
    assert.deepEqual(batches, [[1, 2]], 'the full batch goes before the turn ends');
    assert.deepEqual(await Promise.all(results), [10, 20, 30]);
    assert.deepEqual(batches, [[1, 2], [3]]);
  });

  it('never puts two items with the same key in one batch', async () => {
    const { submit, batches } = recording(10);
    await Promise.all([
      submit({ key: 'a', value: 1 }),
      submit({ key: 'a', value: 2 }),
      submit({ key: 'b', value: 3 }),
    ]);
    assert.deepEqual(batches, [[1, 3], [2]]);
  });

  it('sends calls of a later turn in a batch of their own', async () => {
    const { submit, batches } = recording(10);
    await submit({ key: 'a', value: 1 });
    await submit({ key: 'b', value: 2 });
    assert.deepEqual(batches, [[1], [2]]);
  });

  it('fails every caller of a batch whose flush fails, and only them', async () => {
    let calls = 0;
    const submit = createBatcher<Item, number>({
      maxItems: 2,
      keyOf: (item) => item.key,
      flush(items) {
        calls++;
        return calls === 1
          ? Promise.reject(new Error('etcd unavailable'))
          : Promise.resolve(items.map((i) => i.value));
      },
    });
    const first = [submit({ key: 'a', value: 1 }), submit({ key: 'b', value: 2 })];
    const second = submit({ key: 'c', value: 3 });
    for (const call of first) await assert.rejects(call, /etcd unavailable/);
    assert.equal(await second, 3);
  });
});
