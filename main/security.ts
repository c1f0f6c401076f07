// The main process's security gates, each small enough to test without
// Electron: who may call IPC, which URLs may leave for the OS browser, and the
// deny-everything handlers put on every session and web contents.
import type { Session, Shell, WebContents } from 'electron';
import { labError, type LabError } from '../common/errors.js';
import { APP_HOST, APP_ORIGIN, APP_SCHEME } from './app-protocol.js';

export type SenderCheck = { ok: true } | { ok: false; error: LabError };

const badSender = (why: string, reason: string): SenderCheck => ({ ok: false, error: labError('bad-sender', `IPC refused: ${why}`, { reason }) });

/**
 * May this frame use the lab API? Only the main frame of our own window, showing
 * a page of our own app:// origin (like VS Code's validatedIpcMain). Subframes,
 * other windows and pages that navigated elsewhere are refused.
 */
export function checkSender(frameUrl: string | null | undefined, isMainFrame: boolean, isOurWindow: boolean): SenderCheck {
  if (!isOurWindow) return badSender('the sender is not the LeNet Lab window', 'other-window');
  if (!isMainFrame) return badSender('the sender is not the main frame', 'subframe');
  if (typeof frameUrl !== 'string' || !frameUrl.startsWith(`${APP_ORIGIN}/`)) {
    return badSender(`the sender's page is not part of the app (${String(frameUrl).slice(0, 100)})`, 'foreign-page');
  }
  let parsed: URL;
  try {
    parsed = new URL(frameUrl);
  } catch {
    return badSender('the sender URL does not parse', 'bad-url');
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST || parsed.username !== '' || parsed.password !== '') {
    return badSender(`the sender's origin is not ${APP_ORIGIN}`, 'foreign-origin');
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

export type BlockedKind = 'navigation' | 'redirect' | 'new-window' | 'webview' | 'permission';
export type BlockedListener = (kind: BlockedKind, detail: string) => void;

/** The part of WebContents the guards use (typed loosely so tests can pass a fake). */
export type GuardableContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * Put on every web contents the app creates (app 'web-contents-created'): no
 * navigation away from the loaded page, no redirects, no new windows, no <webview>.
 * The app is a single page; the renderer never navigates.
 */
export function hardenWebContents(contents: GuardableContents, onBlocked: BlockedListener = () => {}): void {
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    onBlocked('navigation', url);
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

export type GuardableSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>;

/** The app needs no camera, microphone, notifications, HID, serial, USB, clipboard-read…: deny every request and check. */
export function denyAllPermissions(session: GuardableSession, onBlocked: BlockedListener = () => {}): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    onBlocked('permission', permission);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
