// The main process's security gates, each small enough to test without
// Electron: who may call IPC, which URLs may leave for the OS browser, and the
// deny-everything handlers put on every session and web contents.
import type { Session, Shell, WebContents } from 'electron';
import type { LabError } from '../common/contract.js';
import { APP_HOST, APP_ORIGIN, APP_SCHEME } from './app-protocol.js';

export type SenderCheck = { ok: true } | { ok: false; error: LabError };

const badSender = (why: string): SenderCheck => ({ ok: false, error: { code: 'bad-sender', message: `IPC refused: ${why}` } });

/**
 * May this frame use the lab API? Only the main frame of our own window, showing
 * a page of our own app:// origin (like VS Code's validatedIpcMain). Subframes,
 * other windows and pages that navigated elsewhere are refused.
 */
export function checkSender(frameUrl: string | null | undefined, isMainFrame: boolean, isOurWindow: boolean): SenderCheck {
  if (!isOurWindow) return badSender('the sender is not the LeNet Lab window');
  if (!isMainFrame) return badSender('the sender is not the main frame');
  if (typeof frameUrl !== 'string' || !frameUrl.startsWith(`${APP_ORIGIN}/`)) {
    return badSender(`the sender's page is not part of the app (${String(frameUrl).slice(0, 100)})`);
  }
  let parsed: URL;
  try {
    parsed = new URL(frameUrl);
  } catch {
    return badSender('the sender URL does not parse');
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST || parsed.username !== '' || parsed.password !== '') {
    return badSender(`the sender's origin is not ${APP_ORIGIN}`);
  }
  return { ok: true };
}

/** Only plain http(s) links with a host and no embedded credentials may go to the OS browser. */
export function isSafeExternalUrl(url: string): boolean {
  if (typeof url !== 'string' || url.length > 2048) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.hostname !== '' && parsed.username === '' && parsed.password === '';
}

/**
 * The one path from the app to shell.openExternal. Callers pass constant links
 * from the About box; anything else (file:, javascript:, custom schemes that
 * launch other programs) is refused here whatever the caller.
 */
export async function openExternalSafely(shell: Pick<Shell, 'openExternal'>, url: string): Promise<boolean> {
  if (!isSafeExternalUrl(url)) return false;
  const normalised = new URL(url).toString();
  await shell.openExternal(normalised); // eng-disable OPEN_EXTERNAL_JS_CHECK -- the URL passed isSafeExternalUrl just above (http/https only, no credentials); see tests/unit/electron-security.test.ts
  return true;
}

export type BlockedKind = 'navigation' | 'redirect' | 'new-window' | 'webview' | 'permission' | 'device' | 'display-capture' | 'download';
export type BlockedListener = (kind: BlockedKind, detail: string) => void;

/** The part of WebContents the guards use (typed loosely so tests can pass a fake). */
export type GuardableContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * The app's own page, reloaded: what the crash banner's Reload button (location.reload()) asks for.
 * Only app://lenet-lab/ or /index.html, with no query and no credentials; a fragment is allowed.
 */
export function isAppPageReload(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === ''
    && parsed.search === '' && (parsed.pathname === '/' || parsed.pathname === '/index.html');
}

/**
 * Put on every web contents the app creates (app 'web-contents-created'): no
 * navigation away from the app's page, no redirects, no new windows, no <webview>,
 * no Bluetooth device chooser. The app is a single page; it only ever reloads itself.
 */
export function hardenWebContents(contents: GuardableContents, onBlocked: BlockedListener = () => {}): void {
  contents.on('will-navigate', (event, url) => {
    if (isAppPageReload(url)) return;
    event.preventDefault();
    onBlocked('navigation', url);
  });
  // Web Bluetooth's chooser: Electron asks the app to pick a device; it picks none.
  contents.on('select-bluetooth-device', (event, _devices, callback) => {
    event.preventDefault();
    onBlocked('device', 'bluetooth');
    callback('');
  });
  contents.on('will-redirect', (event, url) => {
    event.preventDefault();
    onBlocked('redirect', url);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    onBlocked('webview', '<webview>');
  });
  contents.setWindowOpenHandler((details) => {
    onBlocked('new-window', details.url);
    return { action: 'deny' };
  });
}

export type GuardableSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'
  | 'setDisplayMediaRequestHandler' | 'setBluetoothPairingHandler' | 'on'>;

/**
 * The app needs no camera, microphone, notifications, clipboard-read, devices, screen capture or downloads:
 * deny every permission request and check, and answer each device chooser (HID, serial, USB; Bluetooth is
 * per web contents, above), screen-capture request and download explicitly, rather than rely on defaults.
 */
export function denyAllPermissions(session: GuardableSession, onBlocked: BlockedListener = () => {}): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    onBlocked('permission', permission);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.on('select-hid-device', (event, _details, callback) => {
    event.preventDefault();
    onBlocked('device', 'hid');
    callback(null);
  });
  session.on('select-serial-port', (event, _ports, _contents, callback) => {
    event.preventDefault();
    onBlocked('device', 'serial');
    callback('');
  });
  session.on('select-usb-device', (event, _details, callback) => {
    event.preventDefault();
    onBlocked('device', 'usb');
    callback();
  });
  session.setBluetoothPairingHandler((_details, callback) => {
    onBlocked('device', 'bluetooth pairing');
    callback({ confirmed: false });
  });
  // getDisplayMedia: answering with no stream refuses the capture.
  session.setDisplayMediaRequestHandler((_request, callback) => {
    onBlocked('display-capture', 'getDisplayMedia');
    callback({});
  });
  session.on('will-download', (event, item) => {
    event.preventDefault();
    onBlocked('download', item.getURL().slice(0, 200));
  });
}
