import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from './wait';

export const ROOT = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

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

/** Runs one Tributary app from its TypeScript sources, as the integration tests do. */
export function spawnTributaryApp(
  app: 'admin-api' | 'consumer-worker' | 'invoker',
  opts: SpawnOptions = {},
): BenchProcess {
  return spawnNode(app, path.join(ROOT, `apps/${app}/src/main.ts`), {
    ...opts,
    nodeFlags: ['-r', path.join(ROOT, 'scripts/register-ts.js'), ...(opts.nodeFlags ?? [])],
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
