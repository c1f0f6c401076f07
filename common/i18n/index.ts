// The app's words, for every process: the Electron menu (main) and the renderer
// create the same intl object from the same message files. Messages are ICU
// (plurals, interpolation, number formats) through @formatjs/intl; numbers go
// through Intl for the active locale. One JSON file per language.
import { createIntl, createIntlCache, type IntlShape } from '@formatjs/intl';
import en from './en.json' with { type: 'json' };

export type MessageKey = keyof typeof en;
export type MessageValues = Record<string, string | number | boolean | Date | null | undefined>;

/** The languages with a message file; the first is the fallback. */
export const LOCALES = ['en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

export const MESSAGES: Record<Locale, Record<MessageKey, string>> = { en };

/** The supported locale for a list of preferred languages (navigator.languages, Electron's system languages). */
export function matchLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const found = LOCALES.find((locale) => locale.toLowerCase() === tag.toLowerCase() || tag.toLowerCase().startsWith(`${locale.toLowerCase()}-`));
    if (found) return found;
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
  };
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
