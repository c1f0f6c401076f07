// The page's exports, by literal tables: file names, base64, the import pre-checks, free names on a clash, the
// PNG layout maths and colours, the recovery decision, the discard question for import and restore, and the
// CSV cells a hostile model file could try to abuse.
import { describe, expect, it } from 'vitest';
import {
  MAX_IMPORT_BYTES, base64ToBytes, bytesToBase64, checkImportFile, exportFileName, freeModelName, safeFileStem, textToBase64, withKindExtension,
} from '../../renderer/src/lib/export-files.js';
import { isDark, opaqueBackground, paints, parseCssColor, placeInContent, pngLayout } from '../../renderer/src/lib/png-compose.js';
import { shouldOfferRecovery } from '../../renderer/src/lib/recovery.js';
import { mustAskBeforeDiscard } from '../../renderer/src/lib/discard-guard.js';
import { saveExport } from '../../renderer/src/lib/save-export.js';
import { batchesToCsv } from '../../hosts/history-csv.js';
import { parseRequest } from '../../common/contract.js';

const NOW = new Date(2026, 11, 6, 9, 5); // local time: 2026-12-06 09-05

describe('export file names', () => {
  it.each([
    ['loss chart', 'loss chart'],
    ['a/b\\c:d*e?f"g<h>i|j', 'a-b-c-d-e-f-g-h-i-j'],
    ['  ..hidden. ', 'hidden'],
    ['tab\there\nnew', 'tab here new'],
    ['', 'lenet-lab'],
    ['...', 'lenet-lab'],
    ['模型 C1', '模型 C1'],
    ['x'.repeat(150), 'x'.repeat(100)],
  ])('safeFileStem(%j) = %j', (input, output) => {
    expect(safeFileStem(input)).toBe(output);
  });

  it('names what, of which model, when; empty parts left out', () => {
    expect(exportFileName(['lenet5', 'loss'], 'png', NOW)).toBe('lenet5 loss 2026-12-06 09-05.png');
    expect(exportFileName([undefined, '', 'drawing'], 'png', NOW)).toBe('drawing 2026-12-06 09-05.png');
    expect(exportFileName(['m-batches'], 'csv', NOW)).toBe('m-batches 2026-12-06 09-05.csv');
    expect(exportFileName(['a,b =SUM(1)'], 'csv', NOW)).toBe('a,b =SUM(1) 2026-12-06 09-05.csv');
    expect(withKindExtension('m.LENETLAB', 'lenetlab')).toBe('m.lenetlab');
    expect(withKindExtension('m-epochs', 'csv')).toBe('m-epochs.csv');
  });

  it('makes names the saveFile contract accepts, even from hostile parts', () => {
    for (const parts of [['../../etc/passwd'], ['a\u0000b'], ['\\\\server\\share'], ['x'.repeat(500)], ['']]) {
      for (const kind of ['png', 'csv', 'lenetlab'] as const) {
        const request = { kind, suggestedName: exportFileName(parts, kind, NOW), base64: 'AAAA' };
        expect(parseRequest('saveFile', request).ok, request.suggestedName).toBe(true);
      }
    }
  });
});

describe('base64', () => {
  it('matches Node for every byte value and across the 32 KiB chunk edge', () => {
    const bytes = new Uint8Array(0x8000 * 2 + 3).map((_, i) => (i * 131 + 7) % 256);
    expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect([...base64ToBytes(bytesToBase64(bytes))]).toEqual([...bytes]);
    expect(bytesToBase64(new Uint8Array(0))).toBe('');
    expect(textToBase64('损失,loss\n')).toBe(Buffer.from('损失,loss\n', 'utf8').toString('base64'));
  });
});

describe('the import pre-check', () => {
  it('takes a .lenetlab of 1 to 750,000 bytes and refuses the rest, saying why', () => {
    expect(MAX_IMPORT_BYTES).toBe(750_000);
    expect(checkImportFile({ name: 'm.lenetlab', size: 750_000 })).toEqual({ ok: true });
    expect(checkImportFile({ name: 'M.LENETLAB', size: 1 })).toEqual({ ok: true });
    expect(checkImportFile({ name: 'm.lenetlab', size: 750_001 })).toMatchObject({ ok: false, problem: 'too-large', maxBytes: 750_000 });
    expect(checkImportFile({ name: 'm.lenetlab', size: 0 })).toMatchObject({ ok: false, problem: 'empty' });
    expect(checkImportFile({ name: 'm.lenetlab.zip', size: 10 })).toMatchObject({ ok: false, problem: 'extension' });
    expect(checkImportFile({ name: 'lenetlab', size: 10 })).toMatchObject({ ok: false, problem: 'extension' });
  });
});

describe('a free model name on a clash', () => {
  it.each([
    ['m', [], 'm'],
    ['m', ['m'], 'm (2)'],
    ['m', ['M', 'm (2)'], 'm (3)'],
    ['Café', ['café'.normalize('NFD')], 'Café (2)'],
    ['x'.repeat(80), ['x'.repeat(80)], `${'x'.repeat(76)} (2)`],
    ['name. ', [], 'name'],
  ])('freeModelName(%j, %j) = %j', (name, taken, free) => {
    expect(freeModelName(name, taken)).toBe(free);
  });

  it('gives up (null) rather than loop when every candidate is taken', () => {
    expect(freeModelName('m', ['m', ...Array.from({ length: 998 }, (_, i) => `m (${i + 2})`)])).toBeNull();
  });
});

describe('PNG colours', () => {
  it.each([
    ['rgb(255, 255, 255)', { r: 255, g: 255, b: 255, a: 1 }],
    ['rgba(16, 20, 30, 0.5)', { r: 16, g: 20, b: 30, a: 0.5 }],
    ['rgb(16 20 30 / 25%)', { r: 16, g: 20, b: 30, a: 0.25 }],
    ['rgba(0, 0, 0, 0)', { r: 0, g: 0, b: 0, a: 0 }],
    ['transparent', { r: 0, g: 0, b: 0, a: 0 }],
    ['#0a0', { r: 0, g: 170, b: 0, a: 1 }],
    ['#1e293b', { r: 30, g: 41, b: 59, a: 1 }],
    ['color(srgb 1 0.5 0)', { r: 255, g: 127.5, b: 0, a: 1 }],
    ['color(srgb 0 0 1 / 0.2)', { r: 0, g: 0, b: 255, a: 0.2 }],
    ['oklch(0.5 0.1 200)', null],
    ['rgb(1, 2)', null],
  ])('parseCssColor(%j)', (text, colour) => {
    expect(parseCssColor(text)).toEqual(colour);
  });

  it('paints what is not transparent, and draws colours it cannot parse as given', () => {
    expect([paints('rgba(0, 0, 0, 0)'), paints('transparent'), paints(''), paints('rgb(1, 2, 3)'), paints('oklch(0.5 0.1 200)')])
      .toEqual([false, false, false, true, true]);
  });

  it('takes the first opaque colour outwards, white when there is none, and tells dark from light', () => {
    expect(opaqueBackground(['rgba(0, 0, 0, 0)', 'rgba(30, 41, 59, 0.9)', 'rgb(15, 23, 42)', 'rgb(255, 255, 255)'])).toBe('rgb(15, 23, 42)');
    expect(opaqueBackground(['rgba(0, 0, 0, 0)'])).toBe('rgb(255, 255, 255)');
    expect([isDark('rgb(15, 23, 42)'), isDark('rgb(255, 255, 255)'), isDark('rgb(128, 128, 128)'), isDark('rgb(200, 200, 200)')])
      .toEqual([true, false, true, false]);
  });
});

describe('PNG layout', () => {
  it('puts two title lines above the panel, padded, at twice the size', () => {
    expect(pngLayout({ contentWidth: 400, contentHeight: 300, titleLines: 2, scale: 2 })).toEqual({
      width: 864, height: 768, scale: 2, titleBaselines: [33, 55], content: { x: 16, y: 68, width: 400, height: 300 },
    });
  });

  it('gives a narrow panel room for its title, and a panel with no title no title band', () => {
    expect(pngLayout({ contentWidth: 100, contentHeight: 50, titleLines: 1, scale: 1 })).toMatchObject({ width: 320, height: 112, content: { x: 16, y: 46 } });
    expect(pngLayout({ contentWidth: 100.4, contentHeight: 50.2, titleLines: 0, scale: 1 })).toMatchObject({ width: 320, height: 83, titleBaselines: [], content: { y: 16, width: 101, height: 51 } });
  });

  it('lowers the scale so no side passes 4096 px: the largest panel at full scale, then one pixel more', () => {
    expect(pngLayout({ contentWidth: 2048 - 32, contentHeight: 100, titleLines: 0, scale: 2 })).toMatchObject({ width: 4096, scale: 2 });
    const over = pngLayout({ contentWidth: 2048 - 31, contentHeight: 100, titleLines: 0, scale: 2 });
    expect(over.width).toBe(4096);
    expect(over.scale).toBeLessThan(2);
    const tall = pngLayout({ contentWidth: 300, contentHeight: 20_000, titleLines: 2, scale: 2 });
    expect(tall.height).toBe(4096);
    expect(tall.width).toBeLessThan(4096);
  });

  it('places a child by its offset inside the panel', () => {
    expect(placeInContent({ left: 130, top: 250, width: 40, height: 20 }, { left: 100, top: 200 }, { x: 16, y: 68 })).toEqual({ x: 46, y: 118, width: 40, height: 20 });
  });
});

describe('the recovery offer', () => {
  const slot = { name: 'modern-2026-12-06-19-30', variant: 'modern' as const, savedAt: '2026-12-06T19:31:00.000Z', testAccuracy: 0.97 };
  it.each([
    ['no slot', null, null, false, false],
    ['the shipped model is open', slot, { name: 'modern', variant: 'modern', savedAt: '2026-01-01T00:00:00.000Z', testAccuracy: 0.99, unsaved: false }, false, true],
    ['that very run is open, unsaved (a reload)', slot, { ...slot, unsaved: true }, false, false],
    ['the same meta but saved (never: saving empties the slot)', slot, { ...slot, unsaved: false }, false, true],
    ['another unsaved run is open', slot, { ...slot, savedAt: '2026-12-06T19:40:00.000Z', unsaved: true }, false, true],
    ['a run is training', slot, null, true, false],
    ['nothing open yet', slot, null, false, true],
  ] as const)('%s', (_why, s, open, training, offer) => {
    expect(shouldOfferRecovery(s, open, training)).toBe(offer);
  });
});

describe('the discard question for import and restore', () => {
  it('asks when the open model is unsaved or a run is going, not otherwise', () => {
    for (const action of ['import', 'restore'] as const) {
      expect(mustAskBeforeDiscard(action, { summary: { unsaved: true }, phase: 'idle' })).toBe(true);
      expect(mustAskBeforeDiscard(action, { summary: { unsaved: false }, phase: 'paused' })).toBe(true);
      expect(mustAskBeforeDiscard(action, { summary: { unsaved: false }, phase: 'idle' })).toBe(false);
      expect(mustAskBeforeDiscard(action, { summary: null, phase: 'idle' })).toBe(false);
    }
  });
});

describe('saveExport', () => {
  function deps(answer: Awaited<ReturnType<Parameters<typeof saveExport>[0]['lab']['saveFile']>>) {
    const sent: unknown[] = [];
    const heard: string[] = [];
    return {
      sent, heard,
      deps: {
        lab: { saveFile: async (request: unknown) => (sent.push(request), answer) },
        app: { notify: (kind: string, title: string) => void heard.push(`${kind}: ${title}`), fail: (title: string) => void heard.push(`fail: ${title}`) },
        t: (id: string, values?: Record<string, unknown>) => `${id}${values ? ` ${JSON.stringify(values)}` : ''}`,
      },
    };
  }

  it('sends text as UTF-8 base64 and says where it went', async () => {
    const d = deps({ ok: true, value: { saved: true, fileName: 'chosen.csv' } });
    expect(await saveExport(d.deps, 'csv', 'm.csv', 'a,b\n1,2\n')).toBe(true);
    expect(d.sent).toEqual([{ kind: 'csv', suggestedName: 'm.csv', base64: Buffer.from('a,b\n1,2\n').toString('base64') }]);
    expect(d.heard).toEqual(['success: export.saved {"file":"chosen.csv"}']);
  });

  it('passes host base64 through untouched, and says nothing when the user cancels', async () => {
    const d = deps({ ok: true, value: { saved: false, fileName: null } });
    expect(await saveExport(d.deps, 'lenetlab', 'm.lenetlab', { base64: 'TEVORVRMQUI=' })).toBe(false);
    expect(d.sent).toEqual([{ kind: 'lenetlab', suggestedName: 'm.lenetlab', base64: 'TEVORVRMQUI=' }]);
    expect(d.heard).toEqual([]);
  });

  it('reports a refused or failed save with the file named', async () => {
    const d = deps({ ok: false, error: { code: 'bad-file', params: {}, message: 'EACCES' } });
    expect(await saveExport(d.deps, 'png', 'p.png', new Uint8Array([1, 2, 3]))).toBe(false);
    expect(d.heard).toEqual(['fail: export.error.save {"file":"p.png"}']);
  });
});

describe('CSV cells a hostile model file could try to abuse', () => {
  it('quotes commas, defuses formulas in layer names, and writes numbers plainly whatever the locale', () => {
    const csv = batchesToCsv({
      batches: [{ step: 1, epoch: 1, batch: 1, loss: 1234567.5, accuracy: 0.125 }],
      gradientLayers: ['C1,=cmd|"/c calc"!A0', '@SUM(A1)'],
      gradients: [{ step: 1, epoch: 1, batch: 1, norms: [1e-9, 0.5] }],
      snapshots: [],
    });
    expect(csv).toBe([
      'step,epoch,batch,loss,accuracy,"gradientNorm C1,=cmd|""/c calc""!A0",gradientNorm @SUM(A1)',
      '1,1,1,1234567.5,0.125,1e-9,0.5',
      '',
    ].join('\n'));
  });
});
