/**
 * Captures a run's combined output up to a byte cap, keeping the head and the tail: the start
 * says what the command was doing, the end says how it failed. Memory stays at the cap however
 * much the command prints.
 */

export interface OutputBuffer {
  write(chunk: Buffer): void;
  readonly totalBytes: number;
  readonly truncated: boolean;
  /** The captured text; when truncated, a marker line stands between head and tail. */
  text(): string;
}

export function createOutputBuffer(maxOutputBytes: number): OutputBuffer {
  const headLimit = Math.floor(maxOutputBytes / 2);
  const tailLimit = maxOutputBytes - headLimit;
  const head: Buffer[] = [];
  let headBytes = 0;
  // The tail is a ring of chunks trimmed from the front once it exceeds its limit.
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let totalBytes = 0;

  return {
    write(chunk) {
      totalBytes += chunk.length;
      let rest = chunk;
      if (headBytes < headLimit) {
        const take = Math.min(headLimit - headBytes, rest.length);
        head.push(rest.subarray(0, take));
        headBytes += take;
        rest = rest.subarray(take);
      }
      if (rest.length === 0) return;
      tail.push(rest);
      tailBytes += rest.length;
      if (tailBytes > tailLimit * 2) {
        const joined = Buffer.concat(tail);
        tail = [Buffer.from(joined.subarray(joined.length - tailLimit))];
        tailBytes = tailLimit;
      }
    },
    get totalBytes() {
      return totalBytes;
    },
    get truncated() {
      return totalBytes > maxOutputBytes;
    },
    text() {
      const tailJoined = Buffer.concat(tail);
      if (totalBytes <= maxOutputBytes)
        return Buffer.concat([...head, tailJoined]).toString('utf8');
      const kept = tailJoined.subarray(Math.max(0, tailJoined.length - tailLimit));
      const omitted = totalBytes - headBytes - kept.length;
      const marker = `\n[… ${omitted} bytes of output truncated by cronplane …]\n`;
      return `${Buffer.concat(head).toString('utf8')}${marker}${kept.toString('utf8')}`;
    },
  };
}
