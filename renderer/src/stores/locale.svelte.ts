// The active language, as runes: t() and the number formats read it, so a
// language switch re-renders every string without a restart.
import {
  createLabIntl, describeError, isLocale, matchLocale, type ErrorLike, type LabIntl, type Locale, type MessageKey, type MessageValues,
} from '../../../common/i18n/index.js';

/** Where the renderer remembers a language chosen by hand (absent: follow the system). */
export const LOCALE_STORAGE_KEY = 'lenet-lab.locale';

export interface LocaleStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The language chosen by hand earlier, or null (first launch, or storage unavailable). */
export function storedLocale(storage: LocaleStorage | null | undefined): Locale | null {
  try {
    const value = storage?.getItem(LOCALE_STORAGE_KEY);
    return isLocale(value) ? value : null;
  } catch {
    return null;
  }
}

/** The first-launch language: a stored choice, else the system's preferred languages (zh* → zh-CN, else English). */
export function initialLocale(storage: LocaleStorage | null | undefined, preferred: readonly string[]): Locale {
  return storedLocale(storage) ?? matchLocale(preferred);
}

export class LocaleStore {
  locale = $state<Locale>('en');
  private lab = $derived<LabIntl>(createLabIntl(this.locale));
  private listeners = new Set<(locale: Locale) => void>();

  constructor(locale: Locale = 'en', private readonly storage: LocaleStorage | null = null) {
    this.setLocale(locale);
  }

  /** True when the user picked the language (it then no longer follows the system). */
  get chosen(): boolean {
    return storedLocale(this.storage) !== null;
  }

  /** Switches the language now; `remember` keeps it for the next launch. */
  setLocale(locale: Locale, remember = false): void {
    this.locale = locale;
    if (typeof document !== 'undefined') document.documentElement.lang = locale;
    if (remember) {
      try {
        this.storage?.setItem(LOCALE_STORAGE_KEY, locale);
      } catch {
        // Private windows may refuse storage: the switch still holds for this session.
      }
    }
    for (const listener of this.listeners) listener(locale);
  }

  /** Called on every switch (main.ts tells the Electron menu). */
  onChange(listener: (locale: Locale) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The intl helpers of the active language (for pure modules that word things). */
  get intl(): LabIntl {
    return this.lab;
  }

  /** The message `id`, placeholders filled, in the active language. */
  t = (id: MessageKey, values?: MessageValues): string => this.lab.t(id, values);
  /** 60,000 */
  count = (value: number): string => this.lab.count(value);
  /** 98.91% */
  percent = (fraction: number | null | undefined, digits = 1): string => this.lab.percent(fraction, digits);
  /** 1.5 (up to `digits` after the point) */
  decimal = (value: number | null | undefined, digits = 2): string => this.lab.decimal(value, digits);
  /** m:ss or h:mm:ss */
  duration = (seconds: number | null | undefined): string => this.lab.clock(seconds);
  /** "3 min 5 s" / "3分5秒" */
  durationWords = (seconds: number | null | undefined): string => this.lab.durationWords(seconds);
  /** A short local date and time. */
  date = (value: string | number | Date): string => this.lab.date(value);
  /** An error from a host, worded for the user. */
  error = (error: ErrorLike): string => describeError(error, this.lab);
}
