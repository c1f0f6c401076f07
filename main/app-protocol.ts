// The app:// scheme: the window loads the built renderer from app://lenet-lab/
// instead of file://, so it gets a real origin, a CSP header on every response
// and no access to the rest of the disk. Everything here is plain Node (no
// electron import), so the path checks are tested without Electron.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { contentTypeFor } from '../hosts/content-types.js';

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
  const rawSegments = parsed.pathname === '/' || parsed.pathname === '' ? ['index.html'] : parsed.pathname.slice(1).split('/');
  const segments: string[] = [];
  for (const raw of rawSegments) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, reason: 'malformed percent-encoding' };
    }
    // ':' covers drive letters and NTFS streams; a leading '.' covers '.', '..' and dot files.
    if (segment === '' || segment.startsWith('.') || /[/\\:\0]/.test(segment) || /[\u0000-\u001f]/.test(segment)) {
      return { ok: false, status: 404, reason: `refused path segment ${JSON.stringify(segment).slice(0, 80)}` };
    }
    segments.push(segment);
  }
  const absoluteRoot = path.resolve(root);
  const filePath = path.resolve(absoluteRoot, ...segments);
  const relative = path.relative(absoluteRoot, filePath);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    return { ok: false, status: 404, reason: 'outside the app folder' };
  }
  return { ok: true, filePath, contentType: contentTypeFor(filePath) };
}

/**
 * Headers for every app:// response. The CSP matches renderer/index.html's
 * (and the browser-mode server's, minus its WebSocket): scripts only from the
 * app itself plus WebAssembly compilation for tfjs's wasm backend, no eval, no
 * plugins, no frames, no <base>, no form posts.
 */
export function appResponseHeaders(contentType: string): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
  // Kept as one literal so Electronegativity's CSP evaluator reads the real policy. Its only remark is that
  // script-src 'self' could be abused through JSONP or user uploads on the same origin; app://lenet-lab serves
  // nothing but our own build output (no JSONP, no uploads), and tests/unit/electronegativity.test.ts re-runs
  // the evaluator on this policy and allows that one remark and nothing else.
  headers['Content-Security-Policy'] = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"; // eng-disable CSP_GLOBAL_CHECK -- app:// serves only our own bundled scripts (see the comment above)
  return headers;
}

export const APP_CONTENT_SECURITY_POLICY: string = appResponseHeaders('text/html')['Content-Security-Policy']!;

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
      const relative = path.relative(rootPath, real);
      if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return plainResponse(404, 'outside the app folder');
      const stat = await fs.stat(real);
      if (!stat.isFile()) return plainResponse(404, 'not a file');
      const body = request.method === 'HEAD' ? null : await fs.readFile(real);
      return new Response(body, { status: 200, headers: appResponseHeaders(resolved.contentType) });
    } catch {
      return plainResponse(404, 'not found');
    }
  };
}
