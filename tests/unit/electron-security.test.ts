import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import {
  checkSender,
  denyAllPermissions,
  hardenWebContents,
  isSafeExternalUrl,
  openExternalSafely,
  type GuardableContents,
  type GuardableSession,
} from '../../main/security.js';

describe('checkSender', () => {
  it('accepts only the main frame of our window on an app:// page', () => {
    expect(checkSender('app://lenet-lab/index.html', true, true)).toEqual({ ok: true });
    expect(checkSender('app://lenet-lab/index.html?token=x#draw', true, true)).toEqual({ ok: true });
  });

  it.each([
    ['app://lenet-lab/index.html', false, true, /main frame/],
    ['app://lenet-lab/index.html', true, false, /not the LeNet Lab window/],
    ['app://lenet-lab.evil.com/index.html', true, true, /not part of the app/],
    ['app://lenet-lab', true, true, /not part of the app/],
    ['app://lenet-labx/', true, true, /not part of the app/],
    ['https://lenet-lab/index.html', true, true, /not part of the app/],
    ['file:///work/dist/renderer/index.html', true, true, /not part of the app/],
    ['about:blank', true, true, /not part of the app/],
    ['', true, true, /not part of the app/],
    [null, true, true, /not part of the app/],
    [undefined, true, true, /not part of the app/],
  ] as const)('refuses %s (main frame %s, our window %s)', (url, isMainFrame, isOurWindow, why) => {
    const result = checkSender(url, isMainFrame, isOurWindow);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('bad-sender');
      expect(result.error.message).toMatch(why);
    }
  });
});

describe('isSafeExternalUrl / openExternalSafely', () => {
  it.each([
    ['https://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf', true],
    ['http://yann.lecun.com/exdb/mnist/', true],
    ['HTTPS://EXAMPLE.ORG/', true],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['app://lenet-lab/index.html', false],
    ['smb://server/share', false],
    ['ms-msdt:/id PCWDiagnostic', false],
    ['vscode://file/etc/passwd', false],
    ['https://user:pass@example.org/', false],
    ['https://example.org@evil.example/', false],
    ['mailto:someone@example.org', false],
    ['//example.org/', false],
    ['not a url', false],
    [`https://example.org/${'a'.repeat(3000)}`, false],
  ])('%s → %s', (url, safe) => {
    expect(isSafeExternalUrl(url)).toBe(safe);
  });

  it('calls shell.openExternal only for safe URLs', async () => {
    const shell = { openExternal: vi.fn(async () => {}) };
    expect(await openExternalSafely(shell, 'file:///C:/Windows/System32/calc.exe')).toBe(false);
    expect(await openExternalSafely(shell, 'javascript:alert(1)')).toBe(false);
    expect(shell.openExternal).not.toHaveBeenCalled();
    expect(await openExternalSafely(shell, 'https://yann.lecun.com/exdb/mnist/')).toBe(true);
    expect(shell.openExternal).toHaveBeenCalledExactlyOnceWith('https://yann.lecun.com/exdb/mnist/');
  });
});

class FakeContents extends EventEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}
const preventable = () => {
  const event = { defaultPrevented: false, preventDefault() { event.defaultPrevented = true; } };
  return event;
};

describe('hardenWebContents', () => {
  it('blocks navigation, redirects, webviews and new windows', () => {
    const contents = new FakeContents();
    const blocked: string[] = [];
    hardenWebContents(contents as unknown as GuardableContents, (kind, detail) => blocked.push(`${kind} ${detail}`));

    for (const [name, url] of [['will-navigate', 'https://evil.example/'], ['will-redirect', 'app://lenet-lab/x'], ['will-attach-webview', '']] as const) {
      const event = preventable();
      contents.emit(name, event, url);
      expect(event.defaultPrevented, name).toBe(true);
    }
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/popup' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler?.({ url: 'app://lenet-lab/index.html' })).toEqual({ action: 'deny' });
    expect(blocked).toEqual([
      'navigation https://evil.example/',
      'redirect app://lenet-lab/x',
      'webview <webview>',
      'new-window https://evil.example/popup',
      'new-window app://lenet-lab/index.html',
    ]);
  });
});

describe('denyAllPermissions', () => {
  it('denies every permission request, check and device', () => {
    let request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null = null;
    let check: ((...args: unknown[]) => boolean) | null = null;
    let device: ((...args: unknown[]) => boolean) | null = null;
    const session = {
      setPermissionRequestHandler: (handler: typeof request) => { request = handler; },
      setPermissionCheckHandler: (handler: typeof check) => { check = handler; },
      setDevicePermissionHandler: (handler: typeof device) => { device = handler; },
    };
    const blocked: string[] = [];
    denyAllPermissions(session as unknown as GuardableSession, (kind, detail) => blocked.push(`${kind} ${detail}`));
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
      const callback = vi.fn();
      request!({}, permission, callback);
      expect(callback).toHaveBeenCalledExactlyOnceWith(false);
      expect(check!({}, permission, 'app://lenet-lab', {})).toBe(false);
    }
    expect(device!({ deviceType: 'usb', origin: 'app://lenet-lab' })).toBe(false);
    expect(blocked).toContain('permission media');
  });
});
