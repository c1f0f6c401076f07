// The languages with a message file, apart from the messages themselves, so the contract can name them
// without loading every message into each process that validates a request.
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
