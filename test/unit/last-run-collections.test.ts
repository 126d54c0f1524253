import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  byLastRunCollection,
  LAST_RUN_SHARDS,
  lastRunCollection,
  lastRunCollections,
} from '../../core/run-log.ts';

describe('last-run collections', () => {
  it('puts a job in the same collection in every release (writers and readers must agree)', () => {
    assert.deepEqual(['backup', 'a', 'nightly-report'].map(lastRunCollection), [
      'last_run_31',
      'last_run_44',
      'last_run_11',
    ]);
  });

  it('spreads 10,000 jobs evenly enough that no collection holds twice its share', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const name = lastRunCollection(`job-${i}`);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), lastRunCollections());
    assert.ok(Math.max(...counts.values()) < (2 * 10_000) / LAST_RUN_SHARDS);
  });

  it('groups items by their job collection, keeping their order', () => {
    const groups = byLastRunCollection(['backup', 'a', 'backup'], (name) => name);
    assert.deepEqual(
      [...groups],
      [
        ['last_run_31', ['backup', 'backup']],
        ['last_run_44', ['a']],
      ],
    );
  });
});
