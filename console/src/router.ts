/**
 * Routes live in the URL's hash (`#/jobs/backup`), so every view has a link that survives a
 * reload and the back button, while the server only ever serves index.html at `/`.
 */

export type Route =
  | { readonly view: 'jobs' }
  | { readonly view: 'new-job' }
  | { readonly view: 'edit-job'; readonly name: string }
  | { readonly view: 'job'; readonly name: string }
  | { readonly view: 'run'; readonly runId: string }
  | { readonly view: 'fleet' };

export function parseRoute(hash: string): Route {
  const segments = hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
  const [first, second, third] = segments;
  if (first === 'fleet' && segments.length === 1) return { view: 'fleet' };
  if (first === 'runs' && second !== undefined && segments.length === 2) {
    return { view: 'run', runId: second };
  }
  if (first === 'new-job' && segments.length === 1) return { view: 'new-job' };
  if (first === 'jobs' && second !== undefined && third === 'edit' && segments.length === 3) {
    return { view: 'edit-job', name: second };
  }
  if (first === 'jobs' && second !== undefined && segments.length === 2) {
    return { view: 'job', name: second };
  }
  return { view: 'jobs' };
}

export function href(route: Route): string {
  switch (route.view) {
    case 'jobs':
      return '#/jobs';
    case 'new-job':
      return '#/new-job';
    case 'edit-job':
      return `#/jobs/${encodeURIComponent(route.name)}/edit`;
    case 'job':
      return `#/jobs/${encodeURIComponent(route.name)}`;
    case 'run':
      return `#/runs/${encodeURIComponent(route.runId)}`;
    case 'fleet':
      return '#/fleet';
  }
}
