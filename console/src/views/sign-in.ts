/** Sign-in: a token checked against the API before it is kept; the API says which role it has. */
import type { Api } from '../api.ts';
import { h } from '../dom.ts';
import { errorCode, errorMessage } from '../view.ts';
import type { Principal } from '../wire.ts';

export interface SignInOptions {
  readonly createApi: (token: string) => Api;
  readonly onSignedIn: (token: string, principal: Principal) => void;
}

export function mountSignIn(main: HTMLElement, { createApi, onSignedIn }: SignInOptions): void {
  const token = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-hint token-error',
  });
  const error = h('p', { id: 'token-error', class: 'field-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');

  async function signIn(event: Event): Promise<void> {
    event.preventDefault();
    const value = token.value.trim();
    error.textContent = '';
    token.removeAttribute('aria-invalid');
    submit.disabled = true;
    try {
      const principal = await createApi(value).whoami();
      onSignedIn(value, principal);
    } catch (failure) {
      const code = errorCode(failure);
      error.textContent =
        code === 'unauthorized'
          ? 'The control plane does not know this token.'
          : code === 'forbidden'
            ? 'This token may not use the console (agent tokens are for agents).'
            : errorMessage(failure);
      token.setAttribute('aria-invalid', 'true');
      token.focus();
    } finally {
      submit.disabled = false;
    }
  }

  main.replaceChildren(
    h(
      'section',
      { class: 'sign-in card' },
      h('h1', { tabindex: '-1' }, 'Sign in to cronplane'),
      h(
        'form',
        { onsubmit: (event) => void signIn(event) },
        h('label', { for: 'token' }, 'API token'),
        h(
          'p',
          { id: 'token-hint', class: 'hint' },
          'An admin or viewer token. It is kept in this tab only, until you sign out or close it.',
        ),
        token,
        error,
        h('div', { class: 'button-row' }, submit),
      ),
    ),
  );
  token.focus();
}
