/**
 * The editor's live preview: the next five fire times of the expression being typed, in the
 * job's time zone, from the API (so it is the agents' own cron engine speaking). Typing is
 * debounced; an answer to an older keystroke is dropped rather than shown over a newer one.
 */
import type { Api } from '../api.ts';
import { fill, h } from '../dom.ts';
import { formatInstant, formatRelative, isKnownTimeZone } from '../format.ts';
import { errorMessage } from '../view.ts';

const PREVIEW_COUNT = 5;
const DEBOUNCE_MS = 300;

export interface SchedulePreview {
  readonly element: HTMLElement;
  /** Schedules a preview of `cronExpr` read in `timezone`. */
  update(cronExpr: string, timezone: string): void;
  dispose(): void;
}

export function createSchedulePreview(api: Api): SchedulePreview {
  const body = h('div', { class: 'preview-body' });
  const element = h(
    'section',
    { class: 'preview', 'aria-labelledby': 'preview-title', 'aria-live': 'polite' },
    h('h3', { id: 'preview-title' }, 'Next five fire times'),
    body,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;

  async function load(request: number, cronExpr: string, timezone: string): Promise<void> {
    try {
      const next = await api.cronNext(cronExpr, timezone, PREVIEW_COUNT);
      if (request !== latest) return;
      const zone = isKnownTimeZone(timezone) ? timezone : 'UTC';
      const now = Date.now();
      fill(
        body,
        next.length === 0
          ? h('p', { class: 'muted' }, 'This schedule never fires again.')
          : h(
              'ol',
              { class: 'fire-times' },
              next.map((ms) =>
                h(
                  'li',
                  {},
                  h('time', { datetime: new Date(ms).toISOString() }, formatInstant(ms, zone)),
                  h('span', { class: 'sub' }, formatRelative(ms, now)),
                ),
              ),
            ),
        next.length > 0 && next.length < PREVIEW_COUNT
          ? h('p', { class: 'muted' }, 'The schedule ends after these.')
          : null,
      );
    } catch (error) {
      if (request !== latest) return;
      body.replaceChildren(h('p', { class: 'preview-error' }, errorMessage(error)));
    }
  }

  return {
    element,
    update(cronExpr, timezone) {
      clearTimeout(timer);
      const request = ++latest;
      const expr = cronExpr.trim();
      if (expr === '') {
        body.replaceChildren(
          h('p', { class: 'muted' }, 'Type a cron expression to see when it fires.'),
        );
        return;
      }
      body.replaceChildren(h('p', { class: 'muted' }, 'Working it out…'));
      timer = setTimeout(() => void load(request, expr, timezone.trim() || 'UTC'), DEBOUNCE_MS);
    },
    dispose() {
      clearTimeout(timer);
      latest++;
    },
  };
}
