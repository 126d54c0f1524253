/**
 * @module The console's shell: sign-in, the top bar, and the router that mounts one view at a
 * time (disposing the previous one's timers and sockets) and moves focus to the new page's
 * heading, as a page load would for screen readers.
 */
import { createApi } from './api.ts';
import { h } from './dom.ts';
import { createNotices } from './notices.ts';
import type { Route } from './router.ts';
import { href, parseRoute } from './router.ts';
import { forgetToken, saveToken, savedToken } from './session.ts';
import type { MountView, View, ViewContext } from './view.ts';
import { errorCode, errorMessage } from './view.ts';
import { mountFleetView } from './views/fleet-view.ts';
import { mountJobEditor } from './views/job-editor.ts';
import { mountJobPage } from './views/job-page.ts';
import { mountJobsView } from './views/jobs-view.ts';
import { mountRunPage } from './views/run-page.ts';
import { mountSignIn } from './views/sign-in.ts';
import type { Principal } from './wire.ts';

const main = document.getElementById('main') as HTMLElement;
const topBar = document.getElementById('top-bar') as HTMLElement;
const notices = createNotices(document.getElementById('notice-area') as HTMLElement);

function viewFor(route: Route): MountView {
  switch (route.view) {
    case 'jobs':
      return mountJobsView;
    case 'new-job':
      return mountJobEditor(null);
    case 'edit-job':
      return mountJobEditor(route.name);
    case 'job':
      return mountJobPage(route.name);
    case 'run':
      return mountRunPage(route.runId);
    case 'fleet':
      return mountFleetView;
  }
}

let current: View | undefined;
let stopRouting: (() => void) | undefined;

function signOut(message?: string): void {
  current?.dispose();
  current = undefined;
  stopRouting?.();
  forgetToken();
  topBar.hidden = true;
  topBar.replaceChildren();
  notices.clear();
  showSignIn();
  if (message) notices.show(message, 'error');
}

function renderTopBar(principal: Principal, route: Route): void {
  const section = route.view === 'fleet' ? 'fleet' : 'jobs';
  const link = (target: Route, label: string, name: string) =>
    h('a', { href: href(target), 'aria-current': section === name ? 'page' : false }, label);
  topBar.replaceChildren(
    h('a', { class: 'brand', href: href({ view: 'jobs' }) }, 'cronplane'),
    h(
      'nav',
      { 'aria-label': 'Main' },
      link({ view: 'jobs' }, 'Jobs', 'jobs'),
      link({ view: 'fleet' }, 'Fleet', 'fleet'),
    ),
    h(
      'div',
      { class: 'who' },
      h(
        'span',
        { class: `role role-${principal.role}`, title: `signed in as ${principal.name}` },
        principal.role,
      ),
      h('button', { type: 'button', class: 'link-button', onclick: () => signOut() }, 'Sign out'),
    ),
  );
  topBar.hidden = false;
}

function startConsole(token: string, principal: Principal): void {
  const context: ViewContext = {
    api: createApi({
      token,
      onUnauthorized: () => signOut('The control plane no longer accepts this token.'),
    }),
    token,
    canWrite: principal.role === 'admin',
    notices,
    navigate: (route) => {
      location.hash = href(route);
    },
  };
  const show = (): void => {
    const route = parseRoute(location.hash);
    current?.dispose();
    renderTopBar(principal, route);
    current = viewFor(route)(main, context);
    main.querySelector<HTMLElement>('h1')?.focus();
  };
  window.addEventListener('hashchange', show);
  stopRouting = () => window.removeEventListener('hashchange', show);
  show();
}

function showSignIn(): void {
  mountSignIn(main, {
    createApi: (token) => createApi({ token }),
    onSignedIn(token, principal) {
      saveToken(token);
      startConsole(token, principal);
    },
  });
}

async function boot(): Promise<void> {
  const token = savedToken();
  if (token === null) {
    showSignIn();
    return;
  }
  try {
    startConsole(token, await createApi({ token }).whoami());
  } catch (error) {
    if (errorCode(error) === 'unauthorized' || errorCode(error) === 'forbidden') {
      signOut('Your token is no longer accepted; sign in again.');
    } else {
      main.replaceChildren(
        h('h1', {}, 'The control plane cannot be reached'),
        h('p', { class: 'load-error', role: 'alert' }, errorMessage(error)),
        h('button', { type: 'button', onclick: () => location.reload() }, 'Try again'),
      );
    }
  }
}

// The skip link's own "#main" would be read as a route; it only needs to move focus.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
void boot();
