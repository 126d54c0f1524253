/** What every view gets from the shell, and what it gives back. */
import { CronplaneError } from '../../core/errors.ts';
import type { Api } from './api.ts';
import type { Notices } from './notices.ts';
import type { Route } from './router.ts';

export interface ViewContext {
  readonly api: Api;
  /** The token, for the one channel that cannot send headers (the health WebSocket). */
  readonly token: string;
  /** False for viewers: views then render no editing controls at all. */
  readonly canWrite: boolean;
  readonly notices: Notices;
  readonly navigate: (route: Route) => void;
}

/** A mounted view; `dispose` stops its timers and sockets when the route changes. */
export interface View {
  dispose(): void;
}

export type MountView = (main: HTMLElement, context: ViewContext) => View;

/** The message to show for a failure: the API's own words when there are some. */
export function errorMessage(error: unknown): string {
  if (error instanceof CronplaneError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** The API error's code, or undefined for anything else. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof CronplaneError ? error.code : undefined;
}

/**
 * For views that fill in once data arrives: if focus was on content that is now replaced, it
 * fell back to <body>; the new page heading takes it, as on the first render.
 */
export function refocusHeading(main: HTMLElement): void {
  if (document.activeElement === null || document.activeElement === document.body) {
    main.querySelector<HTMLElement>('h1')?.focus();
  }
}
