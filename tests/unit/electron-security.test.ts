import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import {
  checkSender,
  denyAllPermissions,
  hardenWebContents,
  isAppPageReload,
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

describe('the crash banner\'s Reload and the navigation guard', () => {
  it('lets the app\'s own page reload itself, and nothing else through', () => {
    const contents = new FakeContents();
    const blocked: string[] = [];
    hardenWebContents(contents as unknown as GuardableContents, (kind, detail) => blocked.push(`${kind} ${detail}`));
    const navigate = (url: string): boolean => {
      const event = preventable();
      contents.emit('will-navigate', event, url);
      return !event.defaultPrevented;
    };
    // location.reload() on app://lenet-lab/index.html (with or without the view in the fragment).
    for (const url of ['app://lenet-lab/index.html', 'app://lenet-lab/', 'app://lenet-lab/index.html#draw']) expect(navigate(url), url).toBe(true);
    // Each part of the rule alone: another path, a query, another host, another scheme, credentials.
    for (const url of ['app://lenet-lab/other.html', 'app://lenet-lab/index.html?x=1', 'app://evil/index.html', 'file:///index.html',
      'https://lenet-lab/index.html', 'app://user:pw@lenet-lab/index.html', 'app://lenet-lab/assets/index.html', 'not a url']) {
      expect(navigate(url), url).toBe(false);
    }
    expect(isAppPageReload('app://lenet-lab/index.html')).toBe(true);
    expect(blocked).toHaveLength(8);
  });

  it('picks no Bluetooth device', () => {
    const contents = new FakeContents();
    const blocked: string[] = [];
    hardenWebContents(contents as unknown as GuardableContents, (kind, detail) => blocked.push(`${kind} ${detail}`));
    const event = preventable();
    const callback = vi.fn();
    contents.emit('select-bluetooth-device', event, [{ deviceId: 'a', deviceName: 'pen' }], callback);
    expect(event.defaultPrevented).toBe(true);
    expect(callback).toHaveBeenCalledExactlyOnceWith('');
    expect(blocked).toEqual(['device bluetooth']);
  });
});

class FakeSession extends EventEmitter {
  request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null = null;
  check: ((...args: unknown[]) => boolean) | null = null;
  device: ((...args: unknown[]) => boolean) | null = null;
  displayMedia: ((request: unknown, callback: (streams: object) => void) => void) | null = null;
  pairing: ((details: unknown, callback: (response: object) => void) => void) | null = null;
  setPermissionRequestHandler(handler: FakeSession['request']): void { this.request = handler; }
  setPermissionCheckHandler(handler: FakeSession['check']): void { this.check = handler; }
  setDevicePermissionHandler(handler: FakeSession['device']): void { this.device = handler; }
  setDisplayMediaRequestHandler(handler: FakeSession['displayMedia']): void { this.displayMedia = handler; }
  setBluetoothPairingHandler(handler: FakeSession['pairing']): void { this.pairing = handler; }
}

describe('denyAllPermissions: device choosers, screen capture and downloads', () => {
  it('answers each chooser with no device, each capture with no stream, and cancels each download', () => {
    const session = new FakeSession();
    const blocked: string[] = [];
    denyAllPermissions(session as unknown as GuardableSession, (kind, detail) => blocked.push(`${kind} ${detail}`));
    const choose = (name: string, args: unknown[]): { prevented: boolean; answer: unknown[] } => {
      const event = preventable();
      const callback = vi.fn();
      session.emit(name, event, ...args, callback);
      expect(callback, name).toHaveBeenCalledTimes(1);
      return { prevented: event.defaultPrevented, answer: callback.mock.calls[0]! };
    };
    expect(choose('select-hid-device', [{ deviceList: [{ deviceId: 'h' }] }])).toEqual({ prevented: true, answer: [null] });
    expect(choose('select-serial-port', [[{ portId: 'p' }], {}])).toEqual({ prevented: true, answer: [''] });
    expect(choose('select-usb-device', [{ deviceList: [{ deviceId: 'u' }] }])).toEqual({ prevented: true, answer: [] });

    const pairing = vi.fn();
    session.pairing!({ deviceId: 'b', pairingKind: 'confirm' }, pairing);
    expect(pairing).toHaveBeenCalledExactlyOnceWith({ confirmed: false });

    const capture = vi.fn();
    session.displayMedia!({ frame: {}, securityOrigin: 'app://lenet-lab' }, capture);
    expect(capture).toHaveBeenCalledExactlyOnceWith({});

    const download = preventable();
    session.emit('will-download', download, { getURL: () => 'blob:app://lenet-lab/1' }, {});
    expect(download.defaultPrevented).toBe(true);
    expect(blocked).toEqual(['device hid', 'device serial', 'device usb', 'device bluetooth pairing', 'display-capture getDisplayMedia', 'download blob:app://lenet-lab/1']);
  });
});

describe('denyAllPermissions', () => {
  it('denies every permission request, check and device', () => {
    let request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null = null;
    let check: ((...args: unknown[]) => boolean) | null = null;
    let device: ((...args: unknown[]) => boolean) | null = null;
    const session = Object.assign(new FakeSession(), {
      setPermissionRequestHandler: (handler: typeof request) => { request = handler; },
      setPermissionCheckHandler: (handler: typeof check) => { check = handler; },
      setDevicePermissionHandler: (handler: typeof device) => { device = handler; },
    });
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
