// The app:// scheme: the window loads the built renderer from app://lenet-lab/
// instead of file://, so it gets a real origin, a CSP header on every response
// and no access to the rest of the disk. Everything here is plain Node (no
// electron import), so the path checks are tested without Electron.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { contentTypeFor } from '../hosts/content-types.js';
import { CONTENT_SECURITY_POLICY, isInside, resolveStaticPath } from '../hosts/host-setup.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'lenet-lab';
/** Every page and asset of the app lives under this prefix. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

export { contentTypeFor };

export type AppUrlResolution =
  | { ok: true; filePath: string; contentType: string }
  | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * Map an app:// URL to a file under `root`, or say why not. Only
 * app://lenet-lab/<segments> is served; a segment that could climb out of
 * root or name something odd (.., encoded slashes or backslashes, NUL, drive
 * letters, dot files, empty segments) is refused, and the joined path is
 * checked to be inside root as a last line of defence.
 */
export function resolveAppUrl(url: string, root: string): AppUrlResolution {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, status: 400, reason: 'not a URL' };
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST || parsed.username !== '' || parsed.password !== '') {
    return { ok: false, status: 403, reason: `only ${APP_ORIGIN}/ is served` };
  }
  // The one path rule both hosts share (hosts/host-setup.ts).
  const resolved = resolveStaticPath(root, parsed.pathname);
  if (!resolved.ok) {
    return resolved.why === 'malformed'
      ? { ok: false, status: 400, reason: 'malformed percent-encoding' }
      : { ok: false, status: 404, reason: 'refused path: it must name a file inside the app folder' };
  }
  const filePath = resolved.file;
  return { ok: true, filePath, contentType: contentTypeFor(filePath) };
}

/** Headers for every app:// response, with the app's one CSP (hosts/host-setup.ts). */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  };
}

export const APP_CONTENT_SECURITY_POLICY: string = CONTENT_SECURITY_POLICY;

const plainResponse = (status: number, text: string): Response =>
  new Response(text, { status, headers: appResponseHeaders('text/plain; charset=utf-8') });

/**
 * The protocol.handle('app', …) handler: GET/HEAD of files under `root`.
 * Symlinks are resolved and must still land inside root.
 */
export function createAppProtocolHandler(root: string): (request: Request) => Promise<Response> {
  const realRoot = fs.realpath(path.resolve(root)).catch(() => null);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return plainResponse(405, 'method not allowed');
    const resolved = resolveAppUrl(request.url, root);
    if (!resolved.ok) return plainResponse(resolved.status, resolved.reason);
    try {
      const rootPath = await realRoot;
      if (rootPath === null) return plainResponse(404, 'the app was not built (dist/renderer is missing)');
      const real = await fs.realpath(resolved.filePath);
      if (!isInside(rootPath, real)) return plainResponse(404, 'outside the app folder');
      const stat = await fs.stat(real);
      if (!stat.isFile()) return plainResponse(404, 'not a file');
      const body = request.method === 'HEAD' ? null : await fs.readFile(real);
      return new Response(body, { status: 200, headers: appResponseHeaders(resolved.contentType) });
    } catch {
      return plainResponse(404, 'not found');
    }
  };
}
