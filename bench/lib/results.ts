import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './processes';
import { readMachineCpu } from './rss';

/** `bench/results/latest.json`, or `BENCH_RESULTS_FILE` (what `--compare` gives each run). */
export const RESULTS_FILE = process.env.BENCH_RESULTS_FILE
  ? path.resolve(process.env.BENCH_RESULTS_FILE)
  : path.join(ROOT, 'bench/results/latest.json');

/** One line of the summary table: one system measured over one window. */
export interface ResultRow {
  scenario: string;
  /** What ran, e.g. `tributary worker`, later `baseline consumer`, `restate`. */
  system: string;
  /** What the time was measured over, e.g. `subscription -> all acked`. */
  window: string;
  records: number;
  recordBytes: number;
  seconds: number;
  recordsPerSec: number;
  /** Record keys plus values, in 10^6 bytes per second. */
  mbPerSec: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Peak resident memory of each process measured, in MiB, by process name. */
  peakRssMiB: Record<string, number>;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the scenario started (other work on the machine). */
  loadAverageAtStart: number[];
  /** CPU busy over all cores in the second before the scenario started, in %: other work. */
  cpuBusyBeforeStartPercent: number | null;
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  quick: boolean;
  /** Run under the CPU profiler (`--profile`): slower, kept apart from plain runs. */
  profiled: boolean;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineInfo;
  rows: ResultRow[];
  /** Scenario-specific figures (timings, parameters, profile summary). */
  details: Record<string, unknown>;
}

export interface ResultsFile {
  scenarios: Record<string, ScenarioResult>;
}

/** Samples the machine for a second: how busy its CPUs are with work other than ours. */
export async function machineInfo(): Promise<MachineInfo> {
  const before = readMachineCpu();
  await new Promise((r) => setTimeout(r, 1_000));
  const after = readMachineCpu();
  const busy =
    before && after && after.total > before.total
      ? Math.round(((after.busy - before.busy) / (after.total - before.total)) * 100)
      : null;
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    cpuBusyBeforeStartPercent: busy,
  };
}

/** The key a result is stored under: quick and profiled runs are kept apart from plain ones. */
export function resultKey(result: Pick<ScenarioResult, 'scenario' | 'quick' | 'profiled'>): string {
  return `${result.scenario}${result.quick ? ':quick' : ''}${result.profiled ? ':profile' : ''}`;
}

/**
 * Merges results into `bench/results/latest.json` by scenario (a run of one scenario leaves the
 * others' last figures in place). Written to a temporary file and renamed.
 */
export function writeResults(results: ScenarioResult[], file = RESULTS_FILE): void {
  let current: ResultsFile = { scenarios: {} };
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ResultsFile>;
      if (parsed && typeof parsed.scenarios === 'object' && parsed.scenarios !== null) {
        current = { scenarios: parsed.scenarios };
      }
    } catch {
      // unreadable: start over rather than fail the run that just finished
    }
  }
  for (const r of results) current.scenarios[resultKey(r)] = r;
  const sorted: ResultsFile = {
    scenarios: Object.fromEntries(
      Object.entries(current.scenarios).sort(([a], [b]) => a.localeCompare(b)),
    ),
  };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(sorted, null, 2) + '\n');
  renameSync(tmp, file);
}

const num = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The summary as a Markdown table (readable in a terminal, pasteable into docs/benchmarks.md). */
export function formatTable(rows: ResultRow[]): string {
  const header = [
    'scenario',
    'system',
    'window',
    'records',
    'seconds',
    'records/s',
    'MB/s',
    'p50 / p99 ms',
    'peak RSS MiB',
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.system,
    r.window,
    num(r.records),
    num(r.seconds, 2),
    num(r.recordsPerSec),
    num(r.mbPerSec, 1),
    r.p50Ms === undefined ? '-' : `${num(r.p50Ms, 1)} / ${num(r.p99Ms ?? NaN, 1)}`,
    Object.entries(r.peakRssMiB)
      .map(([name, v]) => `${name} ${num(v)}`)
      .join(', ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const numeric = new Set([3, 4, 5, 6, 7]);
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
