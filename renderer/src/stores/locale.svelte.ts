// The active language, as runes: t() and the number formats read it, so a
// language switch re-renders every string without a restart.
import {
  createLabIntl, describeError, type ErrorLike, type LabIntl, type Locale, type MessageKey, type MessageValues,
} from '../../../common/i18n/index.js';
import { formatDuration } from '../lib/format.js';

export class LocaleStore {
  locale = $state<Locale>('en');
  private lab = $derived<LabIntl>(createLabIntl(this.locale));

  constructor(locale: Locale = 'en') {
    this.setLocale(locale);
  }

  setLocale(locale: Locale): void {
    this.locale = locale;
    if (typeof document !== 'undefined') document.documentElement.lang = locale;
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
  /** m:ss or h:mm:ss */
  duration = (seconds: number | null | undefined): string => formatDuration(seconds);
  /** An error from a host, worded for the user. */
  error = (error: ErrorLike): string => describeError(error, this.lab);
}
