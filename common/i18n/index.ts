// The app's words, for every process: the Electron menu (main) and the renderer
// create the same intl object from the same message files. Messages are ICU
// (plurals, interpolation, number formats) through @formatjs/intl; numbers go
// through Intl for the active locale. One JSON file per language.
import { createIntl, createIntlCache, type IntlShape } from '@formatjs/intl';
import en from './en.json' with { type: 'json' };
import zhCN from './zh-CN.json' with { type: 'json' };
import { LOCALES, type Locale } from './locales.js';

export type MessageKey = keyof typeof en;
export type MessageValues = Record<string, string | number | boolean | Date | null | undefined>;

/** The languages with a message file; the first is the fallback. */
export { LOCALES, type Locale };
export const DEFAULT_LOCALE: Locale = 'en';

export const MESSAGES: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

/** Each language's name in itself, as a language menu shows it (never translated). */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' };

export const isLocale = (value: unknown): value is Locale => typeof value === 'string' && (LOCALES as readonly string[]).includes(value);

/**
 * The supported locale for a list of preferred languages (navigator.languages, Electron's system languages), in
 * order: any Chinese (zh, zh-TW, zh-Hans-SG…) is zh-CN, the only Chinese we have; English is English; the first
 * tag we have wins, and a list with none of them falls back to English.
 */
export function matchLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const lower = tag.trim().toLowerCase().replace(/_/g, '-');
    if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
  }
  return DEFAULT_LOCALE;
}

export interface LabIntl {
  readonly locale: Locale;
  readonly intl: IntlShape<string>;
  /** The message `id` with its placeholders filled. */
  t(id: MessageKey, values?: MessageValues): string;
  /** 60,000 (rounded to a whole number); '—' when not finite. */
  count(value: number): string;
  /** 98.91% with `digits` after the point; '—' for null or not finite. */
  percent(fraction: number | null | undefined, digits?: number): string;
  /** A real value (a loss, a learning rate) with up to `digits` after the point, grouped for the language. */
  decimal(value: number | null | undefined, digits?: number): string;
  /** m:ss (or h:mm:ss) for a clock-like duration in seconds (ETA); '—' when unknown. */
  clock(seconds: number | null | undefined): string;
  /** "3 min 5 s" / "3分5秒" for a duration in a sentence; '—' when unknown. */
  durationWords(seconds: number | null | undefined): string;
  /** A short local date and time ("Dec 6, 2026, 17:30" / "2026年12月6日 17:30"); the input when not a date. */
  date(value: string | number | Date): string;
}

const cache = createIntlCache();

export function createLabIntl(locale: Locale = DEFAULT_LOCALE): LabIntl {
  const intl = createIntl<string>({
    locale,
    defaultLocale: DEFAULT_LOCALE,
    messages: MESSAGES[locale],
    // A missing key shows the key itself; the i18n unit test keeps that from shipping.
    onError: (error) => {
      if (error.code !== 'MISSING_TRANSLATION') console.warn(`i18n: ${error.message}`);
    },
  }, cache);
  return {
    locale,
    intl,
    t: (id, values) => intl.formatMessage({ id }, values as Record<string, string | number | boolean | Date | null | undefined>),
    count: (value) => (Number.isFinite(value) ? intl.formatNumber(Math.round(value)) : '—'),
    percent: (fraction, digits = 1) =>
      fraction === null || fraction === undefined || !Number.isFinite(fraction)
        ? '—'
        : intl.formatNumber(fraction, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }),
    decimal: (value, digits = 2) =>
      value === null || value === undefined || !Number.isFinite(value) ? '—' : intl.formatNumber(value, { maximumFractionDigits: digits }),
    clock: (seconds) => {
      const parts = splitDuration(seconds);
      if (!parts) return '—';
      const two = (n: number): string => intl.formatNumber(n, { minimumIntegerDigits: 2, useGrouping: false });
      const { hours, minutes, seconds: s } = parts;
      return hours > 0 ? `${intl.formatNumber(hours)}:${two(minutes)}:${two(s)}` : `${intl.formatNumber(minutes)}:${two(s)}`;
    },
    durationWords: (seconds) => {
      const parts = splitDuration(seconds);
      if (!parts) return '—';
      // A short run rounds to zero seconds: "0 s" reads as if nothing ran.
      if (parts.hours === 0 && parts.minutes === 0 && parts.seconds === 0) return intl.formatMessage({ id: 'format.underASecond' });
      return intl.formatMessage({ id: 'format.durationWords' }, parts).trim();
    },
    date: (value) => {
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) return String(value);
      return intl.formatDate(date, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    },
  };
}

/** Whole hours, minutes and seconds of a duration; null when unknown or negative. */
function splitDuration(seconds: number | null | undefined): { hours: number; minutes: number; seconds: number } | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return null;
  const total = Math.round(seconds);
  return { hours: Math.floor(total / 3600), minutes: Math.floor((total % 3600) / 60), seconds: total % 60 };
}

/** An error as the hosts send it: a code, its parameters, and an English message for logs. */
export interface ErrorLike {
  code: string;
  message?: string;
  params?: Record<string, string | number | boolean | null>;
}

/**
 * Words an error for the user: a code with its own message (`error.<code>` in the message file) is worded from its
 * parameters; any other falls back to the host's message, with the code.
 */
export function describeError(error: ErrorLike, lab: LabIntl): string {
  const key = `error.${error.code}`;
  if (Object.hasOwn(MESSAGES[lab.locale], key)) return lab.t(key as MessageKey, error.params ?? {});
  if (error.message) return lab.t('error.withCode', { message: error.message, code: error.code });
  return lab.t('error.unknown', { code: error.code });
}
