// Number and time formatting for labels, so every view says things the same way.

/** 83.4% (digits after the point configurable); '—' for null/NaN. */
export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** m:ss (or h:mm:ss) for a duration in seconds; '—' when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const grouped = new Intl.NumberFormat('en-US');
/** 60,000 */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? grouped.format(Math.round(value)) : '—';
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
/** 1.2K, 340K, 1.1M */
export function formatCompact(value: number): string {
  return Number.isFinite(value) ? compact.format(value) : '—';
}

/** A loss or other real value with about 3 significant digits; '—' when not finite. */
export function formatValue(value: number | null | undefined, significant = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-4) return value.toExponential(Math.max(0, significant - 1));
  return Number(value.toPrecision(significant)).toString();
}

/** A short local date-time for "saved at" labels. */
export function formatDate(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(locale, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/**
 * Axis labels that tell the ticks apart: `format` where its labels are distinct, otherwise more significant
 * digits until they are (a log axis over 2.300…2.305 would otherwise read "2.3" five times).
 */
export function distinctTickLabels(values: readonly number[], format: (value: number) => string): string[] {
  // A blank label is a tick the format chose not to print (a log axis labels its powers of ten only).
  const distinct = (labels: string[]) => {
    const printed = labels.filter((label) => label !== '');
    return new Set(printed).size === printed.length;
  };
  const first = values.map(format);
  if (distinct(first)) return first;
  for (let significant = 3; significant <= MAX_TICK_DIGITS; significant++) {
    const labels = values.map((v) => formatValue(v, significant));
    if (distinct(labels)) return labels;
  }
  // Never a 16-digit label: a repeated label is left blank instead.
  const labels = values.map((v) => formatValue(v, MAX_TICK_DIGITS));
  return labels.map((label, i) => (labels.indexOf(label) === i ? label : ''));
}

/** Tick labels carry at most this many significant digits. */
export const MAX_TICK_DIGITS = 4;
