// The About box's text, built from the lab worker's info and the runtime's
// versions. Its one link (the 1998 paper) is the only URL the app ever hands
// to the OS browser, through openExternalSafely.
import type { LabInfo } from '../common/contract.js';

export const PAPER_URL = 'https://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf';

export interface RuntimeVersions {
  app: string;
  electron: string;
  chrome: string;
  node: string;
}

/** Versions and the active backend, one per line; tfjs packages come from the worker. */
export function aboutDetail(runtime: RuntimeVersions, info: LabInfo | null, infoError: string | null = null): string {
  const lines = [
    `Version ${runtime.app}`,
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
    lines.push('', `Backend: ${info.backend}${info.backendNote ? ` (${info.backendNote})` : ''}`);
    lines.push(`Dataset: ${info.dataset.name}, ${info.dataset.trainCount.toLocaleString('en-US')} training and ${info.dataset.testCount.toLocaleString('en-US')} test images`);
    lines.push(`Models folder: ${info.modelsDir}`);
  } else {
    lines.push('', `Backend: unknown (${infoError ?? 'the trainer is not running'})`);
  }
  lines.push('', 'LeNet-5 after Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-Based Learning Applied to Document Recognition", 1998.');
  return lines.join('\n');
}
