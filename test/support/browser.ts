import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Browser, chromium } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..', '..');
const CONSOLE_SRC = path.join(ROOT, 'apps', 'console');
const CONSOLE_DIST = path.join(ROOT, 'dist', 'console');

/** Debian's chromium (scripts/ensure-chromium.sh installs it), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const browser = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(browser)) {
    throw new Error(
      `No Chromium at ${browser}: the console's browser tests need one. Run \`npm run infra:up\` as root (it installs Debian's chromium), or \`apt-get install chromium\`, or set CHROMIUM_PATH.`,
    );
  }
  return browser;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root (CI, containers) cannot use Chromium's sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The console as `npm run build` builds it into dist/console: built here when missing or older
 * than its sources, so the browser tests never run against a stale bundle.
 */
export function ensureConsoleBuilt(): void {
  const index = path.join(CONSOLE_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(CONSOLE_SRC)) return;
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'apps/console/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    // Jest sets NODE_ENV=test, which would make Vite bundle React's development build.
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
}
