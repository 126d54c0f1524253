/**
 * The signed-in token, kept in sessionStorage: it survives a reload of the tab but not the
 * tab itself, and is never shared with other tabs or written to disk by us.
 */

const TOKEN_KEY = 'cronplane.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
