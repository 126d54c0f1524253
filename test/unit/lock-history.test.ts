import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLockHistory } from '../../agent/lock-history.ts';

describe('lock history', () => {
  function history() {
    let nowMs = 0;
    const locks = createLockHistory(() => nowMs);
    return { locks, at: (ms: number) => (nowMs = ms) };
  }

  it('says whether the lock was held at some time in a range, and only for that job', () => {
    const { locks, at } = history();
    at(1_005);
    locks.changed('backup', true);
    at(3_310);
    locks.changed('backup', false);
    assert.equal(locks.heldDuring('backup', 2_000, 3_000), true);
    assert.equal(locks.heldDuring('backup', 3_000, 8_000), true, 'released within the range');
    assert.equal(locks.heldDuring('backup', 0, 1_000), false, 'before it was taken');
    assert.equal(locks.heldDuring('backup', 4_000, 9_000), false, 'after it was released');
    assert.equal(locks.heldDuring('other', 2_000, 3_000), false, 'another job');
  });

  it('treats a lock still held as held until now and later', () => {
    const { locks, at } = history();
    at(500);
    locks.changed('backup', true);
    assert.equal(locks.heldDuring('backup', 9_000, 9_000), true);
  });

  it('keeps earlier spans when the lock is taken again, and forgets a deleted job', () => {
    const { locks, at } = history();
    at(0);
    locks.changed('backup', true);
    at(1_500);
    locks.changed('backup', false);
    at(3_010);
    locks.changed('backup', true);
    at(3_020);
    locks.changed('backup', true); // a re-put (reattach) keeps the span's start
    assert.equal(locks.heldDuring('backup', 1_000, 1_000), true, 'the earlier span');
    assert.equal(locks.heldDuring('backup', 2_000, 2_500), false, 'the gap between spans');
    assert.equal(locks.heldDuring('backup', 3_015, 3_015), true);
    locks.forget('backup');
    assert.equal(locks.heldDuring('backup', 3_015, 3_015), false);
  });
});
