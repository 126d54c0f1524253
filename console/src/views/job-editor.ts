/**
 * Creating or editing a job: the form, its live schedule preview, and the save. A save sends
 * `If-Match` with the revision the form was loaded from, so someone else's change in between is
 * reported instead of overwritten; the API's field errors land next to their fields and in a
 * summary at the top, which takes focus so screen readers read it first.
 */
import type { Job } from '../../../core/job.ts';
import type { FieldError } from '../../../core/errors.ts';
import { CronplaneError } from '../../../core/errors.ts';
import { h } from '../dom.ts';
import { href } from '../router.ts';
import type { View, ViewContext } from '../view.ts';
import { errorCode, errorMessage, refocusHeading } from '../view.ts';
import { createJobForm, fieldId, fieldOf } from './job-form.ts';
import { createSchedulePreview } from './schedule-preview.ts';

const FIELD_LABELS: Record<string, string> = {
  cronExpr: 'Cron expression',
  timezone: 'Time zone',
  timeoutSec: 'Timeout',
  retryDelaySec: 'Retry delay',
  'notify.failure': 'Webhooks on failure',
  'notify.success': 'Webhooks on success',
};

function errorSummary(message: string, errors: readonly FieldError[]): HTMLElement {
  return h(
    'div',
    { class: 'error-summary', role: 'alert', tabindex: '-1' },
    h('h2', {}, message),
    errors.length === 0
      ? null
      : h(
          'ul',
          {},
          errors.map(({ field, message: reason }) => {
            const key = fieldOf(field);
            const label = `${FIELD_LABELS[field] ?? (field || 'job')}: ${reason}`;
            return h(
              'li',
              {},
              key
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'link-button',
                      onclick: () => document.getElementById(fieldId(key))?.focus(),
                    },
                    label,
                  )
                : label,
            );
          }),
        ),
  );
}

function mountForm(
  main: HTMLElement,
  context: ViewContext,
  existing: { job: Job; revision: string } | null,
): View {
  const { api, notices, navigate } = context;
  const preview = createSchedulePreview(api);
  const summarySlot = h('div');
  const form = createJobForm({
    job: existing?.job ?? null,
    preview: preview.element,
    submitLabel: existing ? 'Save changes' : 'Create job',
    onSubmit: () => void save(),
  });
  const updatePreview = (): void => preview.update(form.cronExpr.value, form.timezone.value);
  form.cronExpr.addEventListener('input', updatePreview);
  form.timezone.addEventListener('input', updatePreview);
  updatePreview();

  function fail(message: string, errors: readonly FieldError[] = []): void {
    form.showErrors(errors);
    const summary = errorSummary(message, errors);
    summarySlot.replaceChildren(summary);
    summary.focus();
  }

  async function save(): Promise<void> {
    form.clearErrors();
    summarySlot.replaceChildren();
    const read = form.read();
    if ('errors' in read) {
      fail('The job was not saved', read.errors);
      return;
    }
    const { draft } = read;
    try {
      if (!existing && (await api.listJobs()).some((row) => row.job.name === draft.name)) {
        fail('The job was not saved', [
          { field: 'name', message: `a job named "${draft.name}" exists already; edit it instead` },
        ]);
        return;
      }
      await api.putJob(draft, existing?.revision);
      notices.show(`${draft.name} saved.`, 'success');
      navigate({ view: 'job', name: draft.name });
    } catch (error) {
      if (errorCode(error) === 'precondition_failed') {
        fail('Someone changed this job since you opened it. Reload it to see their version.');
      } else if (error instanceof CronplaneError && error.details.length > 0) {
        fail('The job was not saved', error.details);
      } else {
        fail(`The job was not saved: ${errorMessage(error)}`);
      }
    }
  }

  main.replaceChildren(
    h(
      'div',
      { class: 'page-head' },
      h('h1', { tabindex: '-1' }, existing ? `Edit ${existing.job.name}` : 'New job'),
      h(
        'a',
        {
          href: existing ? href({ view: 'job', name: existing.job.name }) : href({ view: 'jobs' }),
        },
        'Cancel',
      ),
    ),
    summarySlot,
    form.element,
  );
  return { dispose: () => preview.dispose() };
}

/** `#/new-job` and `#/jobs/:name/edit`; viewers get an explanation instead of a form. */
export function mountJobEditor(name: string | null) {
  return (main: HTMLElement, context: ViewContext): View => {
    if (!context.canWrite) {
      main.replaceChildren(
        h('h1', { tabindex: '-1' }, 'Read-only access'),
        h('p', {}, 'Only admin tokens can create or change jobs.'),
        h('a', { href: href(name ? { view: 'job', name } : { view: 'jobs' }) }, 'Back'),
      );
      return { dispose: () => undefined };
    }
    if (name === null) return mountForm(main, context, null);
    let view: View | undefined;
    let disposed = false;
    const status = h('p', { class: 'loading' }, 'Loading…');
    main.replaceChildren(h('h1', { tabindex: '-1' }, `Edit ${name}`), status);
    context.api.getJob(name).then(
      (row) => {
        if (disposed) return;
        view = mountForm(main, context, row);
        refocusHeading(main);
      },
      (error) => {
        if (disposed) return;
        status.className = 'load-error';
        status.setAttribute('role', 'alert');
        status.textContent = `Could not load ${name}: ${errorMessage(error)}`;
      },
    );
    return {
      dispose() {
        disposed = true;
        view?.dispose();
      },
    };
  };
}
