// `npm run serve [-- --port N]`: LeNet Lab in a browser tab, served on
// 127.0.0.1. The first line on stdout is the URL to open (token included);
// everything else goes to stderr, so scripts can read that line alone.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { startBrowserServer } from './browser-server.js';
import { defaultModelsDir, fallbackSpawner, workerEnv } from './host-setup.js';
import { spawnForkedWorker } from './node-worker.js';

export const DEFAULT_PORT = 5178;

// Compiled to dist/hosts/serve-cli.js: the renderer build is dist/renderer/, the app's assets are <repo>/assets/.
const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.resolve(here, '../renderer');
const repoAssetsDir = path.resolve(here, '../../assets');

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a port; expected a whole number from 0 to 65535 (0 picks a free one)`);
  }
  return port;
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const program = new Command('serve')
    .description('Serve LeNet Lab to a browser on 127.0.0.1 (first stdout line: the URL to open)')
    .option('-p, --port <n>', 'port to listen on (0 picks a free one)', parsePort, DEFAULT_PORT)
    .configureOutput({ writeOut: (text) => process.stderr.write(text) })
    .parse(process.argv);
  const { port } = program.opts<{ port: number }>();

  try {
    await stat(path.join(rendererDir, 'index.html'));
  } catch {
    say(`serve: ${path.join(rendererDir, 'index.html')} is missing; build first with "npm run build" (npm run serve does that).`);
    process.exit(1);
  }

  const modelsDir = process.env.LENET_LAB_MODELS_DIR || defaultModelsDir();
  await mkdir(modelsDir, { recursive: true });
  const env = workerEnv(process.env, {
    modelsDir,
    assetsDir: process.env.LENET_LAB_ASSETS_DIR || repoAssetsDir,
    transport: 'browser',
  });

  let server;
  try {
    server = await startBrowserServer({
      port,
      rendererDir,
      spawnWorker: fallbackSpawner((extraEnv) => spawnForkedWorker({ ...env, ...extraEnv }), (line) => say(`serve: ${line}`)),
      log: (line) => say(`serve: ${line}`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') say(`serve: port ${port} on 127.0.0.1 is in use; pick another with --port N, or --port 0 for a free one.`);
    else if (code === 'EACCES') say(`serve: not allowed to listen on port ${port}; use a port above 1023, or --port 0.`);
    else say(`serve: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }

  process.stdout.write(`${server.url}\n`);
  say(`serve: LeNet Lab is at ${server.url}`);
  say(`serve: saved models go to ${modelsDir}. Press Ctrl-C to stop.`);

  const shutdown = (signal: string): void => {
    say(`serve: ${signal}, shutting down`);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  say(`serve: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exit(1);
});
