/**
 * The job form: one control per job field, each with its label, hint and error slot wired for
 * screen readers (`aria-describedby`, `aria-invalid`). It reads itself into a job draft — blank
 * numbers are left out so the server's defaults apply — and shows field errors, its own (a
 * label line without `=`) and the API's alike, next to the fields they name.
 */
import type { FieldError } from '../../../core/errors.ts';
import type { Job } from '../../../core/job.ts';
import type { JobDraft } from '../api.ts';
import { h } from '../dom.ts';

export const FIELD_KEYS = [
  'name',
  'description',
  'command',
  'cronExpr',
  'timezone',
  'enabled',
  'concurrency',
  'timeoutSec',
  'retries',
  'retryDelaySec',
  'labels',
  'notify.failure',
  'notify.success',
] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];

type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

export const fieldId = (key: FieldKey): string => `field-${key.replace('.', '-')}`;

/** The form field an API error path belongs to: `labels.env` is shown at `labels`. */
export function fieldOf(path: string): FieldKey | undefined {
  const exact = FIELD_KEYS.find((key) => key === path);
  if (exact) return exact;
  return path.startsWith('labels.') ? 'labels' : undefined;
}

export interface JobForm {
  readonly element: HTMLFormElement;
  readonly cronExpr: HTMLInputElement;
  readonly timezone: HTMLInputElement;
  /** The draft, or the errors that stop it from being sent. */
  read(): { readonly draft: JobDraft } | { readonly errors: readonly FieldError[] };
  /** Marks each error's field; errors of no field are left for the caller's summary. */
  showErrors(errors: readonly FieldError[]): void;
  clearErrors(): void;
}

export interface JobFormOptions {
  /** The job being edited; its name is then fixed. Null for a new job. */
  readonly job: Job | null;
  /** Placed right after the schedule fields. */
  readonly preview: HTMLElement;
  readonly submitLabel: string;
  readonly onSubmit: () => void;
}

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

/** `key=value` lines into labels, or the reason they are not. */
function parseLabels(text: string): Record<string, string> | string {
  const labels: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf('=');
    if (at <= 0) return `"${line}" is not key=value`;
    const key = line.slice(0, at).trim();
    if (key in labels) return `"${key}" is given twice`;
    labels[key] = line.slice(at + 1).trim();
  }
  return labels;
}

export function createJobForm({ job, preview, submitLabel, onSubmit }: JobFormOptions): JobForm {
  const errorSlots = new Map<FieldKey, { control: Control; slot: HTMLElement }>();
  const TIME_ZONES = [
    'UTC',
    ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC'),
  ];

  const text = (value: string, extra: Record<string, string | boolean> = {}) =>
    h('input', { type: 'text', value, spellcheck: 'false', autocomplete: 'off', ...extra });
  const area = (value: string, rows: number, extra: Record<string, string> = {}) => {
    const element = h('textarea', { rows, spellcheck: 'false', ...extra });
    element.value = value;
    return element;
  };
  const count = (value: number | undefined) =>
    h('input', {
      type: 'number',
      inputmode: 'numeric',
      min: 0,
      step: 1,
      value: value === undefined ? '' : String(value),
    });

  const name = text(job?.name ?? '', {
    required: true,
    readonly: job !== null,
    maxlength: '64',
  });
  const description = text(job?.description ?? '', { maxlength: '1024' });
  const command = area(job?.command ?? '', 3, { class: 'mono', required: '' });
  const cronExpr = text(job?.cronExpr ?? '', { class: 'mono', required: true });
  const timezone = text(job?.timezone ?? 'UTC', { list: 'time-zones' });
  const enabled = h('input', { type: 'checkbox', checked: job?.enabled ?? true });
  const concurrency = h(
    'select',
    {},
    h(
      'option',
      { value: 'forbid', selected: job?.concurrency !== 'allow' },
      'forbid: never two runs at once',
    ),
    h(
      'option',
      { value: 'allow', selected: job?.concurrency === 'allow' },
      'allow: runs may overlap',
    ),
  );
  const timeoutSec = count(job?.timeoutSec);
  const retries = count(job?.retries);
  const retryDelaySec = count(job?.retryDelaySec);
  const labels = area(
    Object.entries(job?.labels ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join('\n'),
    2,
    { class: 'mono' },
  );
  const notifyFailure = area((job?.notify.failure ?? []).join('\n'), 2, { class: 'mono' });
  const notifySuccess = area((job?.notify.success ?? []).join('\n'), 2, { class: 'mono' });

  function field(key: FieldKey, label: string, control: Control, hint?: string): HTMLElement {
    const id = fieldId(key);
    const slot = h('p', { id: `${id}-error`, class: 'field-error' });
    control.id = id;
    control.name = key;
    control.setAttribute('aria-describedby', `${hint ? `${id}-hint ` : ''}${id}-error`);
    errorSlots.set(key, { control, slot });
    // An error describes the value that was sent; once the value changes it no longer applies.
    control.addEventListener('input', () => {
      slot.textContent = '';
      control.removeAttribute('aria-invalid');
    });
    const isCheckbox = control instanceof HTMLInputElement && control.type === 'checkbox';
    return h(
      'div',
      { class: isCheckbox ? 'field checkbox' : 'field', 'data-field': key },
      isCheckbox ? [control, h('label', { for: id }, label)] : h('label', { for: id }, label),
      hint ? h('p', { id: `${id}-hint`, class: 'hint' }, hint) : null,
      isCheckbox ? null : control,
      slot,
    );
  }

  const element = h(
    'form',
    {
      class: 'job-form',
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        onSubmit();
      },
    },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Job'),
      field(
        'name',
        'Name',
        name,
        job
          ? 'A job keeps its name; copy it to a new one to rename.'
          : 'Letters, digits, ".", "_" and "-", at most 64.',
      ),
      field('description', 'Description', description),
      field(
        'command',
        'Command',
        command,
        "Run with the agent's shell (-c), in its own process group.",
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Schedule'),
      field(
        'cronExpr',
        'Cron expression',
        cronExpr,
        '5 fields (minute …), 6 (second first), 7 (… year), or @hourly, @daily …',
      ),
      field(
        'timezone',
        'Time zone',
        timezone,
        'IANA name, e.g. Europe/Berlin; the expression is read in it.',
      ),
      h(
        'datalist',
        { id: 'time-zones' },
        TIME_ZONES.map((zone) => h('option', { value: zone })),
      ),
      preview,
      field('enabled', 'Enabled (scheduled by the agents)', enabled),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Execution'),
      field('concurrency', 'Concurrency', concurrency),
      field(
        'timeoutSec',
        'Timeout (seconds)',
        timeoutSec,
        '0 or blank: no timeout. SIGTERM, then SIGKILL after a grace period.',
      ),
      field('retries', 'Retries', retries, 'Extra attempts after a failed run. Blank: none.'),
      field(
        'retryDelaySec',
        'Retry delay (seconds)',
        retryDelaySec,
        'Before the first retry; doubles each attempt. Blank: the default.',
      ),
      field(
        'labels',
        'Agent labels',
        labels,
        'One key=value per line; only agents carrying all of them run the job.',
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Notifications'),
      field(
        'notify.failure',
        'Webhooks on failure',
        notifyFailure,
        'One http(s) URL per line, at most 5.',
      ),
      field(
        'notify.success',
        'Webhooks on success',
        notifySuccess,
        'One http(s) URL per line, at most 5.',
      ),
    ),
    h(
      'div',
      { class: 'button-row' },
      h('button', { type: 'submit', class: 'primary' }, submitLabel),
    ),
  );

  const numberOrBlank = (input: HTMLInputElement): number | undefined =>
    input.value.trim() === '' ? undefined : Number(input.value);

  function setError(key: FieldKey, message: string): void {
    const entry = errorSlots.get(key);
    if (!entry) return;
    entry.slot.textContent = entry.slot.textContent
      ? `${entry.slot.textContent}; ${message}`
      : message;
    entry.control.setAttribute('aria-invalid', 'true');
  }

  return {
    element,
    cronExpr,
    timezone,
    read() {
      const parsedLabels = parseLabels(labels.value);
      if (typeof parsedLabels === 'string') {
        return { errors: [{ field: 'labels', message: parsedLabels }] };
      }
      const timeout = numberOrBlank(timeoutSec);
      const retryCount = numberOrBlank(retries);
      const retryDelay = numberOrBlank(retryDelaySec);
      return {
        draft: {
          name: name.value.trim(),
          description: description.value,
          command: command.value,
          cronExpr: cronExpr.value.trim(),
          timezone: timezone.value.trim(),
          enabled: enabled.checked,
          concurrency: concurrency.value === 'allow' ? 'allow' : 'forbid',
          labels: parsedLabels,
          notify: { failure: lines(notifyFailure.value), success: lines(notifySuccess.value) },
          ...(timeout === undefined ? {} : { timeoutSec: timeout }),
          ...(retryCount === undefined ? {} : { retries: retryCount }),
          ...(retryDelay === undefined ? {} : { retryDelaySec: retryDelay }),
        },
      };
    },
    showErrors(errors) {
      for (const { field: path, message } of errors) {
        const key = fieldOf(path);
        if (key)
          setError(key, path === key ? message : `${path.slice(key.length + 1)}: ${message}`);
      }
    },
    clearErrors() {
      for (const { control, slot } of errorSlots.values()) {
        slot.textContent = '';
        control.removeAttribute('aria-invalid');
      }
    },
  };
}
