/** A run status as a coloured badge whose text says the same, so colour is never the only cue. */
import { h } from '../dom.ts';

const KNOWN = new Set(['succeeded', 'failed', 'killed', 'timeout', 'lost', 'skipped', 'running']);

/** The CSS class of a status; unknown statuses (from a newer control plane) look neutral. */
export function statusClass(status: string): string {
  return `status-${KNOWN.has(status) ? status : 'other'}`;
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status ${statusClass(status)}` }, status);
}
