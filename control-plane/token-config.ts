/** Plain tokens from configuration, checked and turned into auth entries; shared by the entries. */
import type { Role } from '../core/api.ts';
import { CronplaneError } from '../core/errors.ts';
import { createTokenEntry } from './auth.ts';
import type { TokenEntry } from './ports.ts';

export interface TokenConfig {
  readonly name: string;
  readonly role: Role;
  readonly token: string;
}

/** Shorter tokens are guessable; generated ones are 43 characters. */
const MIN_TOKEN_CHARS = 16;

export function checkTokens(tokens: readonly TokenConfig[]): void {
  if (tokens.length === 0) {
    throw new CronplaneError('invalid_config', 'no API token is configured (e.g. --admin-token)');
  }
  const seen = new Set<string>();
  for (const { name, token } of tokens) {
    if (token.length < MIN_TOKEN_CHARS) {
      throw new CronplaneError(
        'invalid_config',
        `token "${name}" is shorter than ${MIN_TOKEN_CHARS} characters`,
      );
    }
    if (seen.has(token)) throw new CronplaneError('invalid_config', 'two roles share one token');
    seen.add(token);
  }
}

/** Checks the tokens and hashes them; only the digests are kept. */
export async function createTokenEntries(tokens: readonly TokenConfig[]): Promise<TokenEntry[]> {
  checkTokens(tokens);
  return Promise.all(tokens.map(({ name, role, token }) => createTokenEntry(name, role, token)));
}
