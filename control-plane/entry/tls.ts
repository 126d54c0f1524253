/** TLS on Node: a server's certificate and key from PEM files, and a fetch that trusts a CA. */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { CronplaneError } from '../../core/errors.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
}

export function readTlsFiles(files: TlsFiles): TlsCredentials {
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new CronplaneError(
        'invalid_config',
        `cannot read the TLS ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  return { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
}

/**
 * A fetch that trusts `caFile` in addition to the system CAs, for a relay with a self-signed or
 * private certificate. Node's global fetch cannot take a CA after start-up (only through
 * NODE_EXTRA_CA_CERTS), so this goes through undici's own fetch with a dispatcher of its own.
 */
export function fetchTrusting(caFile: string): typeof fetch {
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new CronplaneError(
      'invalid_config',
      `cannot read the CA file ${caFile}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const dispatcher = new Agent({ connect: { ca } });
  // undici's fetch is the implementation behind Node's global one; its declared Request and
  // RequestInit types are its own, hence the narrowing of the arguments at this boundary.
  return (input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as string, { ...(init as object), dispatcher });
}
