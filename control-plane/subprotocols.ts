/**
 * WebSocket subprotocols of the control plane. Browsers cannot set an Authorization header on a
 * WebSocket, so a viewer sends its token as a subprotocol: it offers
 * `["cronplane.health.v1", "bearer.<token>"]` and the server answers `cronplane.health.v1`,
 * never echoing the token back (the same trick as Kubernetes' `base64url.bearer.…` protocol).
 * A query parameter was not chosen: URLs end up in access logs, proxies and browser history.
 */

/** The one subprotocol the server ever selects. */
export const HEALTH_SUBPROTOCOL = 'cronplane.health.v1';
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

/** The subprotocols a client offered in `Sec-WebSocket-Protocol` (comma-separated). */
export function offeredSubprotocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== '');
}

/** The token of the first `bearer.<token>` subprotocol offered, if any. */
export function bearerFromSubprotocols(offered: readonly string[]): string | undefined {
  const bearer = offered.find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  return bearer?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
}

/**
 * The subprotocol to answer with: `cronplane.health.v1` when offered, else none. A client that
 * offered only `bearer.<token>` gets no protocol and its browser fails the handshake, which is
 * better than echoing a credential in a response header.
 */
export function selectSubprotocol(offered: Iterable<string>): string | undefined {
  for (const protocol of offered) if (protocol === HEALTH_SUBPROTOCOL) return protocol;
  return undefined;
}

export function isWebSocketUpgrade(upgradeHeader: string | undefined): boolean {
  return upgradeHeader?.toLowerCase() === 'websocket';
}
