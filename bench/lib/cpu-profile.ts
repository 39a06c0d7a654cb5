import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) this summary reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Milliseconds of samples in the window summarised. */
  windowMs: number;
  /** Share of the window the main thread was idle (waiting on I/O) rather than running JS/GC. */
  idlePercent: number;
  /** Self time by where the code lives: our code, each npm package, node internals, GC. */
  byArea: ProfileEntry[];
  /** Self time by function, busiest first. */
  topFunctions: ProfileEntry[];
  /** Total (self + callees) time of functions matching the requested names. */
  inclusive: ProfileEntry[];
}

/** The newest `.cpuprofile` in `dir`. */
export function latestProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  return files.length > 0 ? path.join(dir, files[files.length - 1]) : undefined;
}

function area(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url === '') return `native ${functionName || '(anonymous)'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(apps\/[^/]+|libs\/[^/]+)\//.exec(url);
  if (own) return own[1];
  return url;
}

const ROUND = (n: number): number => Math.round(n * 10) / 10;

/**
 * Summarises a CPU profile over [fromUs, toUs] (microseconds on the monotonic clock, the one
 * `process.hrtime` and V8's profiler share on Linux); the whole profile when they are unset.
 */
/** Frames to total up: a function name, or a label for frames matching a name and a file. */
export type FrameMatcher =
  string | { label: string; functionName?: string; urlIncludes: string | string[] };

export function summariseProfile(
  file: string,
  opts: { fromUs?: number; toUs?: number; top?: number; inclusiveOf?: FrameMatcher[] } = {},
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (opts.fromUs !== undefined && t < opts.fromUs) continue;
    if (opts.toUs !== undefined && t > opts.toUs) continue;
    // A sample's time is the gap to the next sample, i.e. how long this stack was current.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
    windowUs += dt;
  }
  const toEntries = (m: Map<string, number>, top?: number): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        ms: ROUND(us / 1000),
        percent: ROUND(windowUs > 0 ? (us / windowUs) * 100 : 0),
      }));
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  const matchers = (opts.inclusiveOf ?? []).map((m) =>
    typeof m === 'string' ? { label: m, functionName: m, urlIncludes: undefined } : m,
  );
  const inclusive = new Map<string, number>(matchers.map((m) => [m.label, 0]));
  const labelsOf = (frame: CpuProfile['nodes'][number]['callFrame']): string[] =>
    matchers
      .filter(
        (m) =>
          (m.functionName === undefined || m.functionName === frame.functionName) &&
          (m.urlIncludes === undefined ||
            [m.urlIncludes].flat().some((part) => frame.url.includes(part))),
      )
      .map((m) => m.label);
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
    const where = url
      ? ` ${url.replace(/^.*?\/(node_modules|apps|libs)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const fn = `${functionName || '(anonymous)'}${where}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    if (inclusive.size > 0) {
      // Each label counts once per sample, however deep the recursion.
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        for (const label of labelsOf(byId.get(cur)!.callFrame)) {
          if (seen.has(label)) continue;
          seen.add(label);
          inclusive.set(label, inclusive.get(label)! + us);
        }
      }
    }
  }
  return {
    file,
    windowMs: ROUND(windowUs / 1000),
    idlePercent: ROUND(windowUs > 0 ? ((areas.get('idle') ?? 0) / windowUs) * 100 : 0),
    byArea: toEntries(areas, 12),
    topFunctions: toEntries(fns, opts.top ?? 25),
    inclusive: toEntries(inclusive),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const rows = (entries: ProfileEntry[]): string =>
    entries
      .map(
        (e) => `  ${e.percent.toFixed(1).padStart(5)}%  ${String(e.ms).padStart(8)} ms  ${e.name}`,
      )
      .join('\n');
  return [
    `profile ${s.file}: ${s.windowMs} ms of samples, ${s.idlePercent}% idle`,
    'self time by area:',
    rows(s.byArea),
    'self time by function:',
    rows(s.topFunctions),
    ...(s.inclusive.length > 0 ? ['total time (self + callees):', rows(s.inclusive)] : []),
  ].join('\n');
}
