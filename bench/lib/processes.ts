import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from './wait';
import { APP_NODE_FLAGS, App } from '../../scripts/node-flags';

export const ROOT = path.resolve(__dirname, '../..');

export { freePort } from '../../test/support/processes';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A process the harness started; its output goes to `logFile` (last 64 KiB kept in memory). */
export interface BenchProcess {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  exited: Promise<ExitStatus>;
  /** Rejects if the process ends before `stop()` was called: pass it as a wait's `abort`. */
  unexpectedExit: Promise<never>;
  /** The last lines of its output. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export interface SpawnOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Extra node flags (e.g. `--cpu-prof`), placed before the script. */
  nodeFlags?: string[];
  /** Directory for the log file; a fresh temporary one when unset. */
  logDir?: string;
  /** The process's name in logs and figures (`spawnTributaryApp`: the app's name by default). */
  name?: string;
}

const KEEP_BYTES = 64 * 1024;

/** Runs a script with node, capturing its output to a file. */
export function spawnNode(name: string, script: string, opts: SpawnOptions = {}): BenchProcess {
  const logDir = opts.logDir ?? mkdtempSync(path.join(tmpdir(), 'tributary-bench-'));
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), script, ...(opts.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  let kept = '';
  const capture = (d: Buffer): void => {
    log.write(d);
    kept = (kept + d.toString()).slice(-KEEP_BYTES);
  };
  child.stdout.on('data', capture);
  child.stderr.on('data', capture);
  let stopping = false;
  const exited = new Promise<ExitStatus>((resolve) =>
    child.on('exit', (code, signal) => {
      log.end();
      resolve({ code, signal });
    }),
  );
  const unexpectedExit = exited.then((status) => {
    if (stopping) return new Promise<never>(() => undefined);
    throw new Error(
      `${name} exited unexpectedly (${status.signal ?? `code ${status.code}`}); its output ends with:\n${tail(30)}`,
    );
  });
  unexpectedExit.catch(() => undefined);
  const tail = (lines = 20): string => kept.split('\n').slice(-lines).join('\n');
  return {
    name,
    pid: child.pid,
    logFile,
    child,
    exited,
    unexpectedExit,
    tail,
    async stop(graceMs = 50_000) {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timedOut = Symbol('timeout');
      const first = await Promise.race([exited, sleep(graceMs).then(() => timedOut)]);
      if (first !== timedOut) return first as ExitStatus;
      child.kill('SIGKILL');
      return exited;
    },
  };
}

export type TributaryApp = App;

let built = false;

/**
 * Compiles the apps with `npm run build` (tsc to `dist/`, as the Dockerfile does), once per bench
 * process. Always, rather than guessing whether `dist/` is stale: it takes a few seconds to a
 * minute. Synchronous, so that `spawnTributaryApp` stays synchronous; call it early (before any
 * timing starts) to keep it out of the figures.
 */
export function buildTributaryApps(): void {
  if (built) return;
  const started = performance.now();
  process.stderr.write('building the Tributary apps (npm run build) ...\n');
  // Under `npm run bench`, npm_execpath is npm's own CLI script; `npm` from PATH otherwise.
  const npmCli = process.env.npm_execpath;
  const [command, args] =
    npmCli && /npm-cli\.js$/.test(npmCli)
      ? [process.execPath, [npmCli, 'run', 'build']]
      : ['npm', ['run', 'build']];
  const res = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  if (res.status !== 0) {
    throw new Error(
      `npm run build failed (${res.error?.message ?? res.signal ?? `code ${res.status}`}):\n${res.stdout}${res.stderr}`,
    );
  }
  built = true;
  process.stderr.write(
    `built in ${((performance.now() - started) / 1000).toFixed(1)}s (dist/apps/<app>/src/main.js)\n`,
  );
}

/**
 * Runs one Tributary app compiled, as `npm run start:<app>` and the Dockerfile do (building first,
 * once per bench process), with its default node flags (`APP_NODE_FLAGS`, scripts/node-flags.ts) followed by
 * `opts.nodeFlags`.
 */
export function spawnTributaryApp(app: TributaryApp, opts: SpawnOptions = {}): BenchProcess {
  buildTributaryApps();
  return spawnNode(opts.name ?? app, path.join(ROOT, `dist/apps/${app}/src/main.js`), {
    ...opts,
    nodeFlags: [...APP_NODE_FLAGS[app], ...(opts.nodeFlags ?? [])],
  });
}

/** Resolves once `GET http://127.0.0.1:<port>/health` answers 200. */
export async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}
