/** Driver failures become `unavailable` (503) errors; our own typed errors pass through. */
import { CronplaneError } from '../../../core/errors.ts';

export async function orUnavailable<T>(
  dependency: string,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof CronplaneError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CronplaneError('unavailable', `${dependency} is unavailable: ${reason}`);
  }
}
