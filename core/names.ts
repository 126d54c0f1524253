/** The one rule for every name that reaches an etcd key: job names, agent ids, run ids. */

export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const RUN_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export function isValidName(value: unknown): value is string {
  // "." and ".." are path segments to any tool that treats keys as paths; refuse them.
  return typeof value === 'string' && NAME_PATTERN.test(value) && value !== '.' && value !== '..';
}

export function isValidRunId(value: unknown): value is string {
  return typeof value === 'string' && RUN_ID_PATTERN.test(value) && value !== '.' && value !== '..';
}
