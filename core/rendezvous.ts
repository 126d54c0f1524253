/**
 * Rendezvous (highest-random-weight) hashing: every agent computes the same preference order of
 * the eligible agents for a given tick, without talking to each other. The first claims at once;
 * the others only try after a grace, so a fired run costs one claim, not one race per agent.
 */

/** 32-bit FNV-1a followed by a murmur3 finalizer for avalanche; fast and evenly spread. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Agents in preference order for `key` (e.g. `job@tick`); ties broken by id for determinism. */
export function rankAgents(key: string, agentIds: readonly string[]): string[] {
  return agentIds
    .map((id) => ({ id, weight: hash32(`${key}\u0000${id}`) }))
    .sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((entry) => entry.id);
}
