/**
 * A modal yes/no question for destructive actions. The native <dialog> gives focus trapping,
 * Escape to cancel and the inert background for free; focus starts on the safe choice.
 */
import { h } from './dom.ts';

export interface ConfirmOptions {
  readonly title: string;
  readonly message: string;
  /** The label of the button that goes ahead, e.g. "Delete job". */
  readonly confirmLabel: string;
}

/**
 * Gives focus back to the button that opened the dialog. Views re-render every few seconds, so
 * that button may have been replaced while the dialog was open: its successor carries the same
 * `data-focus-key`.
 */
function returnFocus(opener: Element | null): void {
  if (!(opener instanceof HTMLElement)) return;
  const key = opener.dataset.focusKey;
  const target =
    opener.isConnected || key === undefined
      ? opener
      : document.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`);
  target?.focus();
}

export function confirmAction({ title, message, confirmLabel }: ConfirmOptions): Promise<boolean> {
  const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
  const confirm = h('button', { type: 'button', class: 'danger', value: 'confirm' }, confirmLabel);
  const dialog = h(
    'dialog',
    {
      class: 'confirm-dialog',
      'aria-labelledby': 'confirm-title',
      'aria-describedby': 'confirm-message',
    },
    h('h2', { id: 'confirm-title' }, title),
    h('p', { id: 'confirm-message' }, message),
    h('div', { class: 'button-row' }, cancel, confirm),
  );
  document.body.append(dialog);
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer: boolean): void => {
      dialog.close();
      dialog.remove();
      returnFocus(opener);
      resolve(answer);
    };
    cancel.addEventListener('click', () => finish(false));
    confirm.addEventListener('click', () => finish(true));
    // Escape fires `cancel`; the dialog would close itself without telling us the answer.
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    dialog.showModal();
    cancel.focus();
  });
}
