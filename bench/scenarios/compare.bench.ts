import { existsSync, readFileSync } from 'node:fs';
import { runSystem, SystemRun, throughputRow } from '../compare/run-system';
import { round } from '../compare/measure';
import { SYSTEM_NAMES, SystemName } from '../compare/systems';
import { Workload, WorkloadName, WORKLOADS } from '../compare/workloads';
import { recordKey } from '../lib/kafka';
import { fmtInt } from '../lib/progress';
import {
  RESULTS_FILE,
  ResultRow,
  resultKey,
  ResultsFile,
  ScenarioResult,
  writeResults,
} from '../lib/results';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario';

/**
 * S1, S2 and S3: Tributary, the plain kafkajs baseline and the Restate server, one after the
 * other on the same broker and the same records (each system gets its own topic, filled with the
 * same records while it is subscribed). S1-restate-sdk is S1 with Tributary running the Restate
 * SDK handler. See docs/benchmarks.md, "Tributary, baseline, Restate".
 */

/** The three Tributary processes the memory target applies to (the handler is the user's). */
const TRIBUTARY_APPS = ['admin-api', 'consumer-worker', 'invoker'];
const RSS_TARGET_MIB = 200;

/** `BENCH_SYSTEMS=tributary,restate` runs only those (a development aid); all three otherwise. */
function selectedSystems(ctx: ScenarioContext): SystemName[] {
  if (ctx.args.profile) return ['tributary']; // only Tributary is profiled; the others are unchanged
  const env = process.env.BENCH_SYSTEMS;
  if (!env) return SYSTEM_NAMES;
  const wanted = env.split(',').map((s) => s.trim());
  const unknown = wanted.filter((s) => !SYSTEM_NAMES.includes(s as SystemName));
  if (unknown.length > 0) throw new Error(`BENCH_SYSTEMS: unknown system(s) ${unknown.join(', ')}`);
  return SYSTEM_NAMES.filter((s) => wanted.includes(s));
}

/** The figures the issue asks for, per system: what `latest.json` carries at the top of S1..S3. */
export interface SystemFigures {
  eventsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Peak RSS of each process of the system, MiB (2^20 bytes). */
  peakRssMb: Record<string, number>;
  /** Sum of those peaks, MiB. */
  peakRssMbTotal: number;
}

export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

function figures(run: SystemRun): SystemFigures {
  return {
    eventsPerSec: run.eventsPerSec,
    p50Ms: run.latencyMs?.p50 ?? null,
    p99Ms: run.latencyMs?.p99 ?? null,
    peakRssMb: run.peakRssMiB,
    peakRssMbTotal: round(Object.values(run.peakRssMiB).reduce((a, b) => a + b, 0)),
  };
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || b === 0
    ? null
    : round(a / b, 2);

function ratios(t: SystemFigures | undefined, other: SystemFigures | undefined) {
  if (!t || !other) return null;
  return {
    eventsPerSec: ratio(t.eventsPerSec, other.eventsPerSec),
    p50Ms: ratio(t.p50Ms, other.p50Ms),
    p99Ms: ratio(t.p99Ms, other.p99Ms),
    peakRssMbTotal: ratio(t.peakRssMbTotal, other.peakRssMbTotal),
  };
}

function targetsOf(
  w: Workload,
  runs: Partial<Record<SystemName, SystemRun>>,
  fig: Partial<Record<SystemName, SystemFigures>>,
  failed: Partial<Record<SystemName, string>>,
): Target[] {
  const out: Target[] = [];
  const t = fig.tributary;
  const vs = (other: SystemName, factor: number): void => {
    const o = fig[other];
    const why = failed.tributary ?? failed[other];
    if (why !== undefined) {
      out.push({
        target: `${w.name} Tributary events/s >= ${factor}x ${other}`,
        measured: `not measured: ${failed.tributary ? 'tributary' : other} failed (${why.slice(0, 200)})`,
        met: false,
      });
      return;
    }
    if (!t || !o) return;
    const r = t.eventsPerSec / o.eventsPerSec;
    out.push({
      target: `${w.name} Tributary events/s >= ${factor}x ${other}`,
      measured: `${fmtInt(t.eventsPerSec)} vs ${fmtInt(o.eventsPerSec)} = ${r.toFixed(2)}x`,
      met: r >= factor,
    });
  };
  if (w.name === 'S1') {
    vs('restate', 1.5);
    vs('baseline', 0.5);
    const p = runs.tributary?.paced;
    const c = p?.toCompletionMs;
    if (p && c) {
      out.push({
        target: `p99 <= 100 ms from record timestamp to completion recorded, ${fmtInt(p.offeredPerSec)} events/s offered for ${fmtInt(p.records / p.offeredPerSec)} s (Tributary, S1 setup)`,
        measured: `p99 ${c.p99} ms (p50 ${c.p50} ms, p999 ${c.p999} ms)`,
        met: c.p99 <= 100,
      });
    }
  }
  if (w.name === 'S3') vs('baseline', 10);
  const rss = runs.tributary?.peakRssMiB;
  if (rss) {
    const apps = TRIBUTARY_APPS.filter((a) => rss[a] !== undefined);
    out.push({
      target: `${w.name} each Tributary process <= ${RSS_TARGET_MIB} MiB peak RSS`,
      measured: apps.map((a) => `${a} ${Math.round(rss[a])}`).join(', '),
      met: apps.every((a) => rss[a] <= RSS_TARGET_MIB),
    });
  }
  return out;
}

// latest.json: the harness writes each scenario's entry (rows, details) after `run` returns; the
// per-system figures the issue asks for are added at the top of the entry once the harness has
// written it, through the harness's own writeResults, when the bench process exits.
const pending = new Map<string, { from: number; to: number; extra: Record<string, unknown> }>();
let exitHookInstalled = false;

function addToResultsOnExit(key: string, from: number, to: number, extra: Record<string, unknown>) {
  pending.set(key, { from, to, extra });
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    if (!existsSync(RESULTS_FILE)) return;
    let file: ResultsFile;
    try {
      file = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as ResultsFile;
    } catch {
      return;
    }
    const merged: ScenarioResult[] = [];
    for (const [k, { from, to, extra }] of pending) {
      const entry = file.scenarios?.[k];
      // Only an entry the harness wrote for this very run (a failed run writes none).
      if (!entry || Date.parse(entry.startedAt) > from || Date.parse(entry.finishedAt) < to)
        continue;
      merged.push({ ...entry, ...extra });
    }
    if (merged.length > 0) writeResults(merged);
  });
}

function compareScenario(name: WorkloadName): Scenario {
  const w = WORKLOADS[name];
  return {
    name,
    description: `${w.description}; Tributary vs a plain kafkajs consumer vs the Restate server`,
    run: (ctx) => run(ctx, w),
  };
}

async function run(ctx: ScenarioContext, w: Workload): Promise<ScenarioOutcome> {
  const from = Date.now();
  const systems = selectedSystems(ctx);
  const runs: Partial<Record<SystemName, SystemRun>> = {};
  const failed: Partial<Record<SystemName, string>> = {};
  for (const system of systems) {
    try {
      runs[system] = await runSystem(ctx, w, system);
    } catch (err) {
      // One system failing is a result too: the others still run and are reported.
      failed[system] = err instanceof Error ? err.message : String(err);
      ctx.progress.log(`${system} FAILED: ${failed[system]}`);
    }
  }
  const done = systems.filter((s) => runs[s] !== undefined);
  if (done.length === 0) throw new Error(`every system failed: ${JSON.stringify(failed)}`);

  const fig: Partial<Record<SystemName, SystemFigures>> = {};
  for (const s of done) fig[s] = figures(runs[s]!);
  const pacedFig = Object.fromEntries(
    done
      .filter((s) => runs[s]?.paced)
      .map((s) => {
        const p = runs[s]!.paced!;
        return [
          s,
          {
            offeredPerSec: p.offeredPerSec,
            records: p.records,
            eventsPerSec: p.eventsPerSec,
            p50Ms: p.latencyMs?.p50 ?? null,
            p99Ms: p.latencyMs?.p99 ?? null,
            p999Ms: p.latencyMs?.p999 ?? null,
            maxMs: p.latencyMs?.max ?? null,
            ...(p.toCompletionMs ? { toCompletionMs: p.toCompletionMs } : {}),
          },
        ];
      }),
  );
  const rat = {
    tributaryOverRestate: ratios(fig.tributary, fig.restate),
    tributaryOverBaseline: ratios(fig.tributary, fig.baseline),
  };
  const targets = targetsOf(w, runs, fig, failed);
  for (const t of targets) {
    ctx.progress.log(`target ${t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.measured}`);
  }

  const n = Math.round(w.records * ctx.scale);
  const bytesPerRecord = recordKey(0, w.keys).length + w.recordBytes;
  const rows: ResultRow[] = done.map((s) => throughputRow(w.name, s, w, runs[s]!));
  for (const s of done) {
    const p = runs[s]?.paced;
    if (!p) continue;
    rows.push({
      scenario: w.name,
      system: `${s} paced`,
      window: `${fmtInt(p.offeredPerSec)}/s offered, ${fmtInt(p.records)} records`,
      records: p.records,
      recordBytes: w.recordBytes,
      seconds: p.seconds,
      recordsPerSec: p.eventsPerSec,
      mbPerSec: round((p.records * bytesPerRecord) / p.seconds / 1e6),
      p50Ms: p.latencyMs?.p50,
      p99Ms: p.latencyMs?.p99,
      peakRssMiB: {},
    });
  }

  const summary = {
    ...fig,
    ...(Object.keys(failed).length > 0 ? { failed } : {}),
    ...(Object.keys(pacedFig).length > 0 ? { paced: pacedFig } : {}),
    ratios: rat,
    targets,
  };
  addToResultsOnExit(
    resultKey({ scenario: w.name, quick: ctx.args.quick, profiled: ctx.args.profile }),
    from,
    Date.now(),
    summary,
  );
  return {
    rows,
    details: {
      workload: { ...w, records: n },
      measuredWindow:
        'first record produced (the system already subscribed, its consumer group stable, warmed up) -> last handler completion',
      latency: 'record timestamp (kafka.timestamp / the record CreateTime) -> handler start',
      systemsInOrder: systems,
      ...(Object.keys(failed).length > 0 ? { failed } : {}),
      ratios: rat,
      targets,
      systems: runs,
    },
  };
}

export const S1 = compareScenario('S1');
/** S1 with Tributary invoking the Restate SDK handler the Restate server runs. */
export const S1RestateSdk = compareScenario('S1-restate-sdk');
export const S2 = compareScenario('S2');
export const S3 = compareScenario('S3');
