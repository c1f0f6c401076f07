// Training history as CSV, one row per epoch, for spreadsheets.
import type { EpochRecord } from '../engine/training/trainer.js';

const COLUMNS = ['epoch', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'seconds', 'imagesPerSecond', 'learningRate'] as const;

export function historyToCsv(history: readonly EpochRecord[]): string {
  const rows = history.map((record) => COLUMNS.map((column) => String(record[column])).join(','));
  return [COLUMNS.join(','), ...rows].join('\n') + '\n';
}
