// One HTTP request to a test server on 127.0.0.1, the path put on the wire exactly as written (no URL
// normalisation: the server's own path checks are what the tests are after). Shared by the server's unit and
// integration tests.
import http from 'node:http';

export interface RawAnswer { status: number; headers: http.IncomingHttpHeaders; body: string }

export function rawRequest(port: number, rawPath: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}):
  Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
