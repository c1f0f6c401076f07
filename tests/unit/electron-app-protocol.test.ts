import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_CONTENT_SECURITY_POLICY,
  APP_ENTRY_URL,
  appResponseHeaders,
  createAppProtocolHandler,
  resolveAppUrl,
} from '../../main/app-protocol.js';

const root = path.resolve('/srv/lenet-lab/dist/renderer');
const inside = (filePath: string): boolean => {
  const relative = path.relative(root, filePath);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
};

describe('resolveAppUrl', () => {
  it.each([
    ['app://lenet-lab/', 'index.html', 'text/html; charset=utf-8'],
    ['app://lenet-lab', 'index.html', 'text/html; charset=utf-8'],
    ['app://lenet-lab/index.html?token=1#train', 'index.html', 'text/html; charset=utf-8'],
    ['app://lenet-lab/assets/index-abc.js', 'assets/index-abc.js', 'text/javascript; charset=utf-8'],
    ['app://lenet-lab/assets/tfjs-backend-wasm.wasm', 'assets/tfjs-backend-wasm.wasm', 'application/wasm'],
    ['app://lenet-lab/assets/my%20font.woff2', 'assets/my font.woff2', 'font/woff2'],
    ['app://lenet-lab/a/../index.html', 'index.html', 'text/html; charset=utf-8'], // the URL parser folds ".." before we see it
    // WHATWG folds %2e%2e like "..", but never above the URL's root: this names root/etc/passwd (no such file), not /etc/passwd.
    ['app://lenet-lab/%2e%2e/%2e%2e/etc/passwd', 'etc/passwd', 'application/octet-stream'],
  ])('serves %s as %s', (url, relative, contentType) => {
    const resolved = resolveAppUrl(url, root);
    expect(resolved).toEqual({ ok: true, filePath: path.join(root, relative), contentType });
  });

  // One line per hostile URL: the status says which gate stopped it.
  it.each([
    ['file:///etc/passwd', 403],
    ['app://other-host/index.html', 403],
    ['app://lenet-lab.evil/index.html', 403],
    ['app://user:pw@lenet-lab/index.html', 403],
    ['app://lenet-lab:8080/index.html', 403],
    ['https://lenet-lab/index.html', 403],
    ['not a url', 400],
    ['app://lenet-lab/%E0%A4%A', 400],
    ['app://lenet-lab/..%2f..%2fetc%2fpasswd', 404],
    ['app://lenet-lab/assets%2f..%2f..%2fsecret', 404],
    ['app://lenet-lab/..%5c..%5cwindows%5cwin.ini', 404],
    ['app://lenet-lab/assets/%5c..%5csecret', 404],
    ['app://lenet-lab/C:%5cWindows%5cwin.ini', 404],
    ['app://lenet-lab/C:/Windows/win.ini', 404],
    ['app://lenet-lab/index.html%00.png', 404],
    ['app://lenet-lab//etc/passwd', 404],
    ['app://lenet-lab/assets//x.js', 404],
    ['app://lenet-lab/.env', 404],
    ['app://lenet-lab/assets/.DS_Store', 404],
    ['app://lenet-lab/assets/', 404],
    ['app://lenet-lab/line%0abreak.js', 404],
  ])('refuses %s', (url, status) => {
    expect(resolveAppUrl(url, root)).toMatchObject({ ok: false, status });
  });

  it('never resolves outside the root, whatever the path', () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2f', '%5c', '\\', '..\\', '%00', 'C:', '~', '', 'assets', 'index.html', '%252e%252e'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const resolved = resolveAppUrl(`app://lenet-lab/${segments.join('/')}`, root);
        return !resolved.ok || inside(resolved.filePath);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), (tail) => {
      const resolved = resolveAppUrl(`app://lenet-lab/${tail}`, root);
      return !resolved.ok || inside(resolved.filePath);
    }), { numRuns: 1000 });
    fc.assert(fc.property(fc.string(), (url) => typeof resolveAppUrl(url, root).ok === 'boolean'), { numRuns: 500 });
  });
});

describe('app:// response headers', () => {
  it('carry a CSP without unsafe-eval, allowing wasm compilation only', () => {
    const headers = appResponseHeaders('text/html; charset=utf-8');
    const csp = headers['Content-Security-Policy']!;
    expect(csp).toBe(APP_CONTENT_SECURITY_POLICY);
    const directives = new Map(csp.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values] as const;
    }));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/'unsafe-eval'|\*|https?:/);
    expect(headers['X-Content-Type-Options']).toBe('nosniff');
  });
});

describe('createAppProtocolHandler', () => {
  let dir: string;
  let rendererDir: string;
  let handle: (request: Request) => Promise<Response>;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lenet-app-protocol-'));
    rendererDir = path.join(dir, 'renderer');
    mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>LeNet Lab</title>');
    writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'secret.txt'), 'do not serve');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(rendererDir, 'assets', 'escape.txt'));
    handle = createAppProtocolHandler(rendererDir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the entry page with its type and the CSP', async () => {
    const response = await handle(new Request(APP_ENTRY_URL));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(APP_CONTENT_SECURITY_POLICY);
    expect(await response.text()).toContain('<title>LeNet Lab</title>');
  });

  it('serves assets, and HEAD without a body', async () => {
    const get = await handle(new Request('app://lenet-lab/assets/app.js'));
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await get.text()).toBe('console.log(1)');
    const head = await handle(new Request('app://lenet-lab/assets/app.js', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('refuses a symlink that leads out of the renderer folder', async () => {
    const response = await handle(new Request('app://lenet-lab/assets/escape.txt'));
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('do not serve');
  });

  it('refuses traversal, folders, missing files and other methods', async () => {
    expect((await handle(new Request('app://lenet-lab/..%2fsecret.txt'))).status).toBe(404);
    expect((await handle(new Request('app://lenet-lab/assets'))).status).toBe(404);
    expect((await handle(new Request('app://lenet-lab/missing.js'))).status).toBe(404);
    expect((await handle(new Request('app://lenet-lab/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
    expect((await handle(new Request('app://elsewhere/index.html'))).status).toBe(403);
  });

  it('says so when the renderer was not built', async () => {
    const missing = createAppProtocolHandler(path.join(dir, 'no-such-dir'));
    const response = await missing(new Request(APP_ENTRY_URL));
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/not built/);
  });
});
