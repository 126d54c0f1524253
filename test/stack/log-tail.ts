/** The last lines a server wrote, kept in memory so a failure message can quote them. */

export interface LogTail {
  /** Feeds raw output; lines may arrive split across chunks. */
  write(chunk: Buffer | string): void;
  /** Appends a line of our own (e.g. "--- restarted ---"). */
  note(line: string): void;
  /** The retained lines, oldest first, joined with newlines (includes an unterminated last line). */
  text(): string;
}

export function createLogTail(maxLines = 60, maxLineLength = 2000): LogTail {
  const lines: string[] = [];
  let partial = '';

  const push = (line: string): void => {
    lines.push(line.length > maxLineLength ? `${line.slice(0, maxLineLength)}…` : line);
    if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
  };

  return {
    write(chunk) {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      // A server that never writes a newline must not grow `partial` without bound.
      if (partial.length > maxLineLength) {
        push(partial);
        partial = '';
      }
      for (const part of parts) push(part.replace(/\r$/, ''));
    },
    note(line) {
      if (partial !== '') {
        push(partial);
        partial = '';
      }
      push(line);
    },
    text() {
      return partial === '' ? lines.join('\n') : [...lines, partial].join('\n');
    },
  };
}
