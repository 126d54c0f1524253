/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Pure; each process owns one registry and serves it.
 *
 * Label values must have bounded cardinality: job names are used as labels only on counters of
 * runs, where the number of jobs bounds them (documented in README, "Metrics").
 */

type Labels = Readonly<Record<string, string>>;

interface Series {
  readonly labels: Labels;
  value: number;
}

interface HistogramSeries {
  readonly labels: Labels;
  readonly counts: number[];
  sum: number;
  count: number;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Gauge {
  set(value: number, labels?: Labels): void;
}
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

export interface MetricsRegistry {
  counter(name: string, help: string): Counter;
  gauge(name: string, help: string): Gauge;
  /** A gauge computed when scraped. */
  gaugeFn(name: string, help: string, read: () => number | readonly [Labels, number][]): void;
  histogram(name: string, help: string, buckets: readonly number[]): Histogram;
  render(): string;
}

export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeValue(extra[1])}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function keyOf(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k] ?? ''}`)
    .join('\u0001');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function createMetricsRegistry(): MetricsRegistry {
  const blocks: (() => string)[] = [];
  const names = new Set<string>();

  const claim = (name: string): void => {
    if (!NAME.test(name) || names.has(name))
      throw new Error(`metric name "${name}" is invalid or taken`);
    names.add(name);
  };

  const simple = (name: string, help: string, type: 'counter' | 'gauge'): Map<string, Series> => {
    claim(name);
    const series = new Map<string, Series>();
    blocks.push(() => {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
      for (const s of series.values())
        lines.push(`${name}${renderLabels(s.labels)} ${formatNumber(s.value)}`);
      return lines.join('\n');
    });
    return series;
  };

  const at = (series: Map<string, Series>, labels: Labels): Series => {
    const key = keyOf(labels);
    let s = series.get(key);
    if (!s) {
      s = { labels: { ...labels }, value: 0 };
      series.set(key, s);
    }
    return s;
  };

  return {
    counter(name, help) {
      const series = simple(name, help, 'counter');
      return {
        inc(labels = {}, by = 1) {
          if (by < 0) throw new Error(`counter ${name} cannot decrease`);
          at(series, labels).value += by;
        },
      };
    },
    gauge(name, help) {
      const series = simple(name, help, 'gauge');
      return {
        set(value, labels = {}) {
          at(series, labels).value = value;
        },
      };
    },
    gaugeFn(name, help, read) {
      claim(name);
      blocks.push(() => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
        let value: number | readonly [Labels, number][];
        try {
          value = read();
        } catch {
          value = NaN;
        }
        if (typeof value === 'number') lines.push(`${name} ${formatNumber(value)}`);
        else
          for (const [labels, v] of value)
            lines.push(`${name}${renderLabels(labels)} ${formatNumber(v)}`);
        return lines.join('\n');
      });
    },
    histogram(name, help, buckets) {
      claim(name);
      const bounds = [...buckets].sort((a, b) => a - b);
      const series = new Map<string, HistogramSeries>();
      blocks.push(() => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
        for (const s of series.values()) {
          let cumulative = 0;
          bounds.forEach((bound, i) => {
            cumulative += s.counts[i] ?? 0;
            lines.push(
              `${name}_bucket${renderLabels(s.labels, ['le', formatNumber(bound)])} ${cumulative}`,
            );
          });
          lines.push(`${name}_bucket${renderLabels(s.labels, ['le', '+Inf'])} ${s.count}`);
          lines.push(`${name}_sum${renderLabels(s.labels)} ${formatNumber(s.sum)}`);
          lines.push(`${name}_count${renderLabels(s.labels)} ${s.count}`);
        }
        return lines.join('\n');
      });
      return {
        observe(value, labels = {}) {
          const key = keyOf(labels);
          let s = series.get(key);
          if (!s) {
            s = { labels: { ...labels }, counts: bounds.map(() => 0), sum: 0, count: 0 };
            series.set(key, s);
          }
          const index = bounds.findIndex((bound) => value <= bound);
          if (index >= 0) s.counts[index] = (s.counts[index] ?? 0) + 1;
          s.sum += value;
          s.count += 1;
        },
      };
    },
    render() {
      return `${blocks.map((render) => render()).join('\n')}\n`;
    },
  };
}
