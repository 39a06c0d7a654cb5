import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The newest modification time of a file under `dir` (recursively), in milliseconds. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Runs Maven in `dir`; resolves with its exit code and output, killing it after `timeoutMs`. */
function mvn(
  dir: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', ['-q', '-B', '-Dstyle.color=never', ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run mvn (is Maven installed and on PATH?): ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, output });
    });
  });
}

/**
 * Builds the Maven project in `dir` with `mvn package` unless `artifact` (relative to `dir`) is
 * newer than its pom.xml and every file under src/. Offline first, from the local repository;
 * online (Maven Central) when that fails, e.g. on a machine that has not fetched the dependencies
 * yet. Returns the artifact's absolute path and how it was obtained.
 */
export async function buildMavenProject(
  dir: string,
  artifact: string,
  timeoutMs = 300_000,
): Promise<{ path: string; built: 'reused' | 'offline' | 'online' }> {
  const target = path.join(dir, artifact);
  const sources = Math.max(
    statSync(path.join(dir, 'pom.xml')).mtimeMs,
    newestMtime(path.join(dir, 'src')),
  );
  if (existsSync(target) && statSync(target).mtimeMs >= sources) {
    return { path: target, built: 'reused' };
  }
  const offline = await mvn(dir, ['-o', 'package'], timeoutMs);
  if (offline.code === 0) return { path: target, built: 'offline' };
  const online = await mvn(dir, ['package'], timeoutMs);
  if (online.code !== 0 || !existsSync(target)) {
    throw new Error(
      `mvn package failed in ${dir} (exit ${String(online.code)}; offline it exited ` +
        `${String(offline.code)}):\n${online.output.slice(-3000)}`,
    );
  }
  return { path: target, built: 'online' };
}
