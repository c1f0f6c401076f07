// The About box's text, built from the lab worker's info and the runtime's
// versions. Its one link (the 1998 paper) is the only URL the app ever hands
// to the OS browser, through openExternalSafely.
import type { LabInfo } from '../common/contract.js';
import { createLabIntl, type LabIntl } from '../common/i18n/index.js';

export const PAPER_URL = 'https://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf';

export interface RuntimeVersions {
  app: string;
  electron: string;
  chrome: string;
  node: string;
}

/** Versions and the active backend, one per line; tfjs packages come from the worker. */
export function aboutDetail(runtime: RuntimeVersions, info: LabInfo | null, infoError: string | null = null, lab: LabIntl = createLabIntl('en')): string {
  const { t } = lab;
  const lines = [
    t('aboutBox.version', { version: runtime.app }),
    '',
    `Electron ${runtime.electron}`,
    `Chromium ${runtime.chrome}`,
    `Node.js ${runtime.node}`,
  ];
  if (info) {
    const tfjs = Object.entries(info.versions)
      .filter(([name]) => /tfjs|tensorflow/i.test(name))
      .sort(([a], [b]) => a.localeCompare(b));
    for (const [name, version] of tfjs) lines.push(`${name} ${version}`);
    lines.push('', info.backendNote
      ? t('aboutBox.backendNote', { backend: info.backend, note: info.backendNote })
      : t('aboutBox.backend', { backend: info.backend }));
    lines.push(t('aboutBox.dataset', { name: info.dataset.name, train: info.dataset.trainCount, test: info.dataset.testCount }));
    lines.push(t('aboutBox.modelsFolder', { dir: info.modelsDir }));
  } else {
    lines.push('', t('aboutBox.backendUnknown', { reason: infoError ?? t('aboutBox.noTrainer') }));
  }
  lines.push('', t('about.paper'));
  return lines.join('\n');
}
