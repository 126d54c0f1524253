/**
 * The runs of one job the console has seen, newest first, merged by run id. The newest page is
 * fetched again on each refresh while older pages stay as loaded, so new runs push in at the top
 * without opening a gap above the older pages, and a record replaced later (a `lost` run whose
 * real outcome arrived) shows its latest form.
 */
import type { RunPageView, RunView } from './wire.ts';

export interface RunHistory {
  /** Newest first: (planTime, startTime, runId) descending, as the API pages them. */
  readonly runs: readonly RunView[];
  /** The cursor for the next older page; null once the oldest run is listed. */
  readonly nextCursor: string | null;
  /** Merges the newest page, as fetched again. */
  mergeNewest(page: RunPageView): void;
  /** Merges the page that `nextCursor` asked for. */
  mergeOlder(page: RunPageView): void;
}

function newestFirst(a: RunView, b: RunView): number {
  return b.planTime - a.planTime || b.startTime - a.startTime || (a.runId < b.runId ? 1 : -1);
}

export function createRunHistory(): RunHistory {
  const byId = new Map<string, RunView>();
  let runs: RunView[] = [];
  let nextCursor: string | null = null;
  let olderLoaded = false;

  function merge(page: RunPageView): void {
    for (const run of page.runs) byId.set(run.runId, run);
    runs = [...byId.values()].sort(newestFirst);
  }

  return {
    get runs() {
      return runs;
    },
    get nextCursor() {
      return nextCursor;
    },
    mergeNewest(page) {
      merge(page);
      // Until an older page is loaded, the newest page's cursor is where "older" starts.
      if (!olderLoaded) nextCursor = page.nextCursor;
    },
    mergeOlder(page) {
      merge(page);
      olderLoaded = true;
      nextCursor = page.nextCursor;
    },
  };
}
