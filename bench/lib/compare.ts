// `npm run bench -- --compare <git-ref> [--only ...] [--quick]`: the same scenarios on another
// commit and on the working tree, back to back, printed side by side with the ratio new / old.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './processes';
import { resultKey, ResultsFile, ScenarioResult, writeResults } from './results';

/** One side of a comparison: where it ran and what it measured. */
interface Side {
  label: string;
  results: ScenarioResult[];
  exitCode: number;
}

/**
 * Runs `harnessArgs` (the bench's own arguments without `--compare`) on `ref`, checked out into a
 * temporary git worktree, then on the working tree, and prints both. The old commit's harness is
 * its own (`bench/run.ts` at that commit), with the same arguments. Returns the exit code.
 */
export async function runCompare(ref: string, harnessArgs: string[]): Promise<number> {
  const sha = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).trim();
  if (!sha) {
    process.stderr.write(`--compare: '${ref}' is not a commit of this repository\n`);
    return 2;
  }
  if (!existsSync(path.join(ROOT, 'node_modules'))) {
    process.stderr.write('--compare: run npm ci in the working tree first\n');
    return 2;
  }
  const short = sha.slice(0, 9);
  const scratch = mkdtempSync(path.join(tmpdir(), `tributary-compare-${short}-`));
  const oldTree = path.join(scratch, 'tree');
  const newResults = path.join(scratch, 'new.json');
  log(`checking out ${ref} (${short}) into ${oldTree}`);
  git(['worktree', 'add', '--detach', oldTree, sha]);
  try {
    installDependencies(oldTree, sha);
    // The old commit's own results file, emptied: only this run's entries are read back.
    const oldResults = path.join(oldTree, 'bench/results/latest.json');
    rmSync(oldResults, { force: true });
    const old = await runSide(`old ${short}`, oldTree, harnessArgs, {}, oldResults);
    const current = await runSide('new (working tree)', ROOT, harnessArgs, {
      BENCH_RESULTS_FILE: newResults,
    });
    process.stdout.write(`\n${formatComparison(ref, old, current)}\n`);
    const kept = path.join(ROOT, 'bench/results/compare.tmp');
    mkdirSync(kept, { recursive: true });
    writeResults(
      old.results.map((r) => ({ ...r, scenario: `${r.scenario}@${short}` })),
      path.join(kept, 'results.json'),
    );
    writeResults(
      current.results.map((r) => ({ ...r, scenario: `${r.scenario}@working-tree` })),
      path.join(kept, 'results.json'),
    );
    process.stdout.write(
      `both runs' full results: ${path.relative(process.cwd(), path.join(kept, 'results.json'))}\n`,
    );
    return old.exitCode !== 0 || current.exitCode !== 0 ? 1 : 0;
  } finally {
    log(`removing the worktree ${oldTree}`);
    spawnSync('git', ['worktree', 'remove', '--force', oldTree], { cwd: ROOT });
    rmSync(scratch, { recursive: true, force: true });
  }
}

function log(line: string): void {
  process.stderr.write(`[compare] ${line}\n`);
}

function git(args: string[], cwd = ROOT): string {
  const res = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (res.status !== 0 && !(args[0] === 'rev-parse' && res.status === 1)) {
    throw new Error(`git ${args.join(' ')} failed: ${res.stderr || res.error?.message}`);
  }
  return res.stdout ?? '';
}

/**
 * The old tree's node_modules: the working tree's, linked entry by entry, when both commits lock
 * the same packages (seconds); `npm ci` otherwise (minutes). The workspace package
 * (`@tributary/sdk`) always points at the old tree's own `libs/sdk`, built there.
 */
function installDependencies(tree: string, sha: string): void {
  const lock = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  const sameLock =
    lock(path.join(tree, 'package-lock.json')) === lock(path.join(ROOT, 'package-lock.json'));
  const npm = (args: string[]): void => {
    log(`npm ${args.join(' ')} in the old tree`);
    const res = spawnSync('npm', args, { cwd: tree, encoding: 'utf8', stdio: 'pipe' });
    if (res.status !== 0) {
      throw new Error(`npm ${args.join(' ')} failed at ${sha}:\n${res.stdout}${res.stderr}`);
    }
  };
  if (!sameLock) {
    npm(['ci', '--no-audit', '--no-fund']);
    return;
  }
  log('package-lock.json unchanged: linking the working tree node_modules');
  const from = path.join(ROOT, 'node_modules');
  const to = path.join(tree, 'node_modules');
  mkdirSync(to);
  for (const entry of readdirSync(from)) {
    if (entry === '@tributary') continue;
    symlinkSync(path.join(from, entry), path.join(to, entry));
  }
  mkdirSync(path.join(to, '@tributary'));
  symlinkSync('../../libs/sdk', path.join(to, '@tributary/sdk'));
  npm(['run', 'build', '--workspace', '@tributary/sdk']);
}

/** Runs the harness of `tree` (which builds its own apps) and reads back what it wrote. */
async function runSide(
  label: string,
  tree: string,
  harnessArgs: string[],
  env: Record<string, string>,
  resultsFile = env.BENCH_RESULTS_FILE,
): Promise<Side> {
  log(`running ${label}: bench/run.ts ${harnessArgs.join(' ')}`);
  const childEnv = { ...process.env, ...env };
  if (!env.BENCH_RESULTS_FILE) delete childEnv.BENCH_RESULTS_FILE;
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', './scripts/register-ts.js', 'bench/run.ts', ...harnessArgs],
      { cwd: tree, env: childEnv, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  let results: ScenarioResult[] = [];
  if (resultsFile && existsSync(resultsFile)) {
    const file = JSON.parse(readFileSync(resultsFile, 'utf8')) as ResultsFile;
    results = Object.values(file.scenarios);
  }
  return { label, results, exitCode };
}

type Metrics = Map<string, number>;

/** The figures of one scenario's result worth comparing, by label, in display order. */
function metricsOf(r: ScenarioResult): Metrics {
  const m: Metrics = new Map();
  const perSystem = new Map<string, number>();
  for (const row of r.rows) perSystem.set(row.system, (perSystem.get(row.system) ?? 0) + 1);
  for (const row of r.rows) {
    const name = perSystem.get(row.system)! > 1 ? `${row.system} (${row.window})` : row.system;
    m.set(`${name}: records/s`, row.recordsPerSec);
    if (row.p50Ms !== undefined) m.set(`${name}: p50 ms`, row.p50Ms);
    if (row.p99Ms !== undefined) m.set(`${name}: p99 ms`, row.p99Ms);
    for (const [proc, mib] of Object.entries(row.peakRssMiB)) {
      m.set(`${row.system}: peak RSS MiB ${proc}`, mib);
    }
  }
  const systems = (r.details.systems ?? {}) as Record<
    string,
    { cpu?: { microsPerEvent?: Record<string, number> } }
  >;
  for (const [system, s] of Object.entries(systems)) {
    const cpu = s.cpu?.microsPerEvent;
    if (!cpu) continue;
    m.set(
      `${system}: CPU us/event, all`,
      Object.values(cpu).reduce((a, b) => a + b, 0),
    );
    for (const [proc, us] of Object.entries(cpu)) m.set(`${system}: CPU us/event ${proc}`, us);
  }
  const workerCpu = r.details.workerCpuMicrosPerRecord;
  if (typeof workerCpu === 'number') m.set('worker: CPU us/record', workerCpu);
  return m;
}

const fmt = (n: number | undefined): string =>
  n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: 1 });

/** Both sides as a Markdown table per scenario, with the ratio new / old. */
export function formatComparison(ref: string, old: Side, current: Side): string {
  const out: string[] = [];
  const keys = [...new Set([...old.results, ...current.results].map((r) => resultKey(r)))];
  for (const key of keys) {
    const a = old.results.find((r) => resultKey(r) === key);
    const b = current.results.find((r) => resultKey(r) === key);
    const load = (r?: ScenarioResult) =>
      r
        ? `load ${r.machine.loadAverageAtStart.join(' ')}, CPU ${r.machine.cpuBusyBeforeStartPercent ?? '?'}% busy, ${r.startedAt}`
        : 'no result (failed)';
    out.push(`### ${key}: ${ref} against the working tree`);
    out.push(`old (${old.label}): ${load(a)}`);
    out.push(`new (${current.label}): ${load(b)}`);
    const ma: Metrics = a ? metricsOf(a) : new Map<string, number>();
    const mb: Metrics = b ? metricsOf(b) : new Map<string, number>();
    const labels = [...new Set([...ma.keys(), ...mb.keys()])];
    const rows: string[][] = labels.map((label) => {
      const x = ma.get(label);
      const y = mb.get(label);
      const ratio = x !== undefined && y !== undefined && x !== 0 ? (y / x).toFixed(2) : '-';
      return [label, fmt(x), fmt(y), ratio];
    });
    const header = ['figure', 'old', 'new', 'new / old'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) =>
      `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    out.push('', line(header));
    out.push(
      `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    );
    out.push(...rows.map(line), '');
  }
  if (old.exitCode !== 0) out.push(`the old side's harness exited with code ${old.exitCode}`);
  if (current.exitCode !== 0)
    out.push(`the new side's harness exited with code ${current.exitCode}`);
  return out.join('\n');
}
