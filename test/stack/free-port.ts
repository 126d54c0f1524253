/** A free TCP port on the loopback interface. */
import { createServer } from 'node:net';

/**
 * Asks the kernel for an unused port by listening on port 0, then releases it. Another process
 * can take the port before the caller binds it; the server starters retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected server address ${String(address)}`));
      });
    });
  });
}

const ADDRESS_IN_USE = /address already in use/i;

/**
 * Runs `start` (which picks its ports with `freePort`) again when the server died because
 * another process took one of its ports in between; gives up after `attempts`.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const tail = (error as { logTail?: unknown } | null)?.logTail;
      const clash = typeof tail === 'string' && ADDRESS_IN_USE.test(tail);
      if (!clash || attempt >= attempts) throw error;
    }
  }
}
