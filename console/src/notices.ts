/**
 * Short messages about what just happened ("Kill requested for backup"), in one live region so
 * screen readers announce them. Errors stay until the next message; the rest fade after a while.
 */
import { h } from './dom.ts';

export type NoticeKind = 'info' | 'success' | 'error';

export interface Notices {
  show(message: string, kind?: NoticeKind): void;
  clear(): void;
}

const FADE_AFTER_MS = 8_000;

export function createNotices(area: HTMLElement): Notices {
  let fadeTimer: ReturnType<typeof setTimeout> | undefined;
  const clear = (): void => {
    clearTimeout(fadeTimer);
    area.replaceChildren();
  };
  return {
    show(message, kind = 'info') {
      clear();
      area.append(
        h(
          'div',
          { class: `notice notice-${kind}` },
          h('span', {}, message),
          h('button', { type: 'button', class: 'link-button', onclick: clear }, 'Dismiss'),
        ),
      );
      if (kind !== 'error') fadeTimer = setTimeout(clear, FADE_AFTER_MS);
    },
    clear,
  };
}
