/** The relay's replay cache: remembers nonces for their window, bounded, and never forgets early. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createNonceCache } from '../../relay/nonce-cache.ts';

it('refuses a nonce seen before until it expires, then forgets it', () => {
  const cache = createNonceCache(10);
  assert.equal(cache.remember('n1', 1_000, 0), 'fresh');
  assert.equal(cache.remember('n1', 1_000, 999), 'replayed');
  assert.equal(cache.remember('n1', 2_000, 1_000), 'fresh');
});

it('answers full rather than forgetting a nonce still inside its window', () => {
  const cache = createNonceCache(2);
  assert.equal(cache.remember('a', 1_000, 0), 'fresh');
  assert.equal(cache.remember('b', 1_000, 0), 'fresh');
  assert.equal(cache.remember('c', 1_000, 500), 'full');
  assert.equal(cache.remember('a', 1_000, 500), 'replayed');
  // Once the window has passed, expired entries make room again.
  assert.equal(cache.remember('c', 2_000, 1_000), 'fresh');
  assert.equal(cache.size, 1);
});
