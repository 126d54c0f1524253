/**
 * What an admin can do to a job from a list or its page: run now, kill, enable/disable, delete.
 * Each asks first when it destroys something, reports its outcome as a notice, and refreshes.
 */
import type { JobInput } from '../api.ts';
import { confirmAction } from '../confirm-dialog.ts';
import type { ViewContext } from '../view.ts';
import { errorCode, errorMessage } from '../view.ts';
import type { JobRow } from '../wire.ts';

export interface JobActions {
  runNow(name: string): Promise<void>;
  /** Kills every run of the job, or the one run given. */
  kill(name: string, runId?: string): Promise<void>;
  setEnabled(row: JobRow, enabled: boolean): Promise<void>;
  /** Resolves true once the job is deleted; the caller, who may be showing it, moves on. */
  remove(name: string): Promise<boolean>;
}

/** The job as a PUT body: `updatedAt` is the server's to stamp. */
export function jobInput(row: JobRow): JobInput {
  const { updatedAt: _stampedByServer, ...input } = row.job;
  return input;
}

export function createJobActions(
  { api, notices }: ViewContext,
  afterChange: () => Promise<void>,
): JobActions {
  return {
    async runNow(name) {
      try {
        await api.runJobNow(name);
        notices.show(`Run of ${name} requested.`, 'success');
      } catch (error) {
        notices.show(
          errorCode(error) === 'conflict'
            ? `${name} is running and does not allow overlapping runs; try again when it ends.`
            : `Could not run ${name}: ${errorMessage(error)}`,
          'error',
        );
      }
      await afterChange();
    },

    async kill(name, runId) {
      const what = runId === undefined ? `every running run of ${name}` : `run ${runId}`;
      const confirmed = await confirmAction({
        title: `Kill ${name}?`,
        message: `This kills ${what} at once (SIGKILL to its process group).`,
        confirmLabel: 'Kill',
      });
      if (!confirmed) return;
      try {
        await api.killJob(name, runId);
        notices.show(`Kill requested for ${name}.`, 'success');
      } catch (error) {
        notices.show(`Could not kill ${name}: ${errorMessage(error)}`, 'error');
      }
      await afterChange();
    },

    async setEnabled(row, enabled) {
      try {
        await api.putJob({ ...jobInput(row), enabled }, row.revision);
        notices.show(`${row.job.name} ${enabled ? 'enabled' : 'disabled'}.`, 'success');
      } catch (error) {
        notices.show(
          errorCode(error) === 'precondition_failed'
            ? `${row.job.name} was changed elsewhere; the latest version is shown now, try again.`
            : `Could not change ${row.job.name}: ${errorMessage(error)}`,
          'error',
        );
      }
      await afterChange();
    },

    async remove(name) {
      const confirmed = await confirmAction({
        title: `Delete ${name}?`,
        message: `The job stops being scheduled everywhere. Runs in flight finish; its run history is kept.`,
        confirmLabel: 'Delete job',
      });
      if (!confirmed) return false;
      try {
        await api.deleteJob(name);
        notices.show(`${name} deleted.`, 'success');
        return true;
      } catch (error) {
        notices.show(`Could not delete ${name}: ${errorMessage(error)}`, 'error');
        return false;
      }
    },
  };
}
