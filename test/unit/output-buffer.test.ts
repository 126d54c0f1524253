import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOutputBuffer } from '../../agent/output-buffer.ts';

describe('output buffer', () => {
  it('keeps everything under the cap', () => {
    const buffer = createOutputBuffer(1024);
    buffer.write(Buffer.from('hello '));
    buffer.write(Buffer.from('world\n'));
    assert.equal(buffer.text(), 'hello world\n');
    assert.equal(buffer.truncated, false);
  });

  it('keeps the head and the tail past the cap, with a marker counting what was dropped', () => {
    const buffer = createOutputBuffer(1024);
    buffer.write(Buffer.from('HEAD'));
    for (let i = 0; i < 1000; i++) buffer.write(Buffer.alloc(1000, 'x'));
    buffer.write(Buffer.from('TAIL'));
    const text = buffer.text();
    assert.equal(buffer.truncated, true);
    assert.equal(buffer.totalBytes, 1_000_008);
    assert.ok(text.startsWith('HEAD'));
    assert.ok(text.endsWith('TAIL'));
    assert.match(text, /\[… 998984 bytes of output truncated by cronplane …\]/);
    assert.ok(Buffer.byteLength(text) < 1024 + 100);
  });
});
