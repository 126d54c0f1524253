import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLockHistory } from '../../agent/lock-history.ts';

describe('lock history', () => {
  function history() {
    let nowMs = 0;
    const locks = createLockHistory(() => nowMs);
    return { locks, at: (ms: number) => (nowMs = ms) };
  }

  it('covers ticks inside the span the lock was held, and only those', () => {
    const { locks, at } = history();
    at(1_005);
    locks.changed('backup', true);
    at(3_310);
    locks.changed('backup', false);
    assert.equal(locks.heldThroughout('backup', 2_000, 3_000), true);
    assert.equal(locks.heldThroughout('backup', 1_000, 3_000), false, 'tick before the claim');
    assert.equal(locks.heldThroughout('backup', 2_000, 4_000), false, 'tick after the release');
    assert.equal(locks.heldThroughout('other', 2_000, 3_000), false, 'another job');
  });

  it('treats a lock still held as held until now and later', () => {
    const { locks, at } = history();
    at(500);
    locks.changed('backup', true);
    assert.equal(locks.heldThroughout('backup', 1_000, 9_000), true);
  });

  it('starts a new span when the lock is taken again, and forgets a deleted job', () => {
    const { locks, at } = history();
    at(0);
    locks.changed('backup', true);
    at(1_500);
    locks.changed('backup', false);
    at(2_010);
    locks.changed('backup', true);
    at(2_020);
    locks.changed('backup', true); // a re-put (reattach) keeps the span's start
    assert.equal(locks.heldThroughout('backup', 1_000, 1_000), false, 'the old span is gone');
    assert.equal(locks.heldThroughout('backup', 3_000, 3_000), true);
    assert.equal(locks.heldThroughout('backup', 2_015, 3_000), true);
    locks.forget('backup');
    assert.equal(locks.heldThroughout('backup', 3_000, 3_000), false);
  });
});
