// The browser host's forked worker gets the same filtered environment as
// Electron's trainer (hosts/host-setup.ts): a real child process.
import { describe, expect, it } from 'vitest';
import { spawnForkedWorker } from '../../hosts/node-worker.js';

describe('spawnForkedWorker', () => {
  it('reaches a forked worker without NODE_OPTIONS or ELECTRON_NO_ASAR from the parent', async () => {
    const saved = { ...process.env };
    process.env.ELECTRON_NO_ASAR = '1';
    process.env.NODE_OPTIONS = '--max-old-space-size=4000';
    try {
      const port = spawnForkedWorker(
        { LENET_LAB_TRANSPORT: 'browser' },
        { entry: new URL('../fixtures/env-worker.mjs', import.meta.url) },
      );
      const env = await new Promise<Record<string, string>>((resolve) =>
        port.onMessage((m) => resolve((m as unknown as { payload: Record<string, string> }).payload)),
      );
      port.kill();
      expect(env.LENET_LAB_TRANSPORT).toBe('browser');
      expect(env).not.toHaveProperty('ELECTRON_NO_ASAR');
      expect(env).not.toHaveProperty('NODE_OPTIONS');
    } finally {
      process.env = saved;
    }
  });
});
