import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  formatProfile,
  FrameMatcher,
  latestProfile,
  ProfileSummary,
  summariseProfile,
} from '../lib/cpu-profile';
import {
  benchKafka,
  localBrokerPid,
  produceRecords,
  recordKey,
  removeKafkaState,
} from '../lib/kafka';
import { fmtInt } from '../lib/progress';
import type { ResultRow } from '../lib/results';
import { mib, readCpuSeconds, RssSampler } from '../lib/rss';
import type { ScenarioContext } from '../lib/scenario';
import { sleep, waitFor } from '../lib/wait';
import type { HandlerStats } from './handler-stats';
import {
  cpuBetween,
  cpuSnapshot,
  deleteGroupsPatiently,
  ensureTopic,
  fetchStats,
  groupStable,
  postgresBackendsOf,
  postgresPid,
  producePaced,
  resetStats,
  round,
} from './measure';
import { createSystem, PostgresCounters, System, SystemName, TributarySystem } from './systems';
import { SHARD_DATABASE_URL } from '../../test/support/database';
import type { Workload } from './workloads';

export interface PacedRun {
  offeredPerSec: number;
  records: number;
  /** First record produced to last handler completion. */
  seconds: number;
  eventsPerSec: number;
  produceSeconds: number;
  /** Record timestamp to handler start (every system). */
  latencyMs: HandlerStats['latencyMs'];
  /**
   * Tributary: record timestamp to completion recorded in Postgres (`completed_at`), from the
   * invocation rows: what the paced target is about.
   */
  toCompletionMs?: { p50: number; p90: number; p99: number; p999: number };
}

export interface SystemRun {
  system: SystemName;
  records: number;
  recordBytes: number;
  /** What `seconds` spans. */
  window: string;
  seconds: number;
  eventsPerSec: number;
  /** How long producing the records took (the producer runs inside the window). */
  produceSeconds: number;
  latencyMs: HandlerStats['latencyMs'];
  /** Peak RSS (max of 200 ms samples of VmRSS and the kernel's VmHWM) by process, MiB. */
  peakRssMiB: Record<string, number>;
  /** RSS by process once started and subscribed, before any record, MiB. */
  rssAtReadyMiB: Record<string, number>;
  /** CPU over the measured window: µs per event and % of one core, by process. */
  cpu: ReturnType<typeof cpuBetween>;
  /**
   * Tributary: CPU over the window of the Postgres backends serving its apps' connections (part
   * of `cpu`'s `postgres`, which is the whole server, other users of it included).
   */
  postgresBackendsCpu?: { backends: number; microsPerEvent: number; percentOfOneCore: number };
  handled: number;
  distinct: number;
  duplicates: number;
  maxConcurrentInHandler: number;
  /** Keyed sinks: the sum of every key's last counter value against the records sent to it. */
  state?: { expected: number; actual: number; ok: boolean };
  warmup: { records: number; seconds: number };
  startupSeconds: number;
  subscribeToStableSeconds: number;
  /** Tributary: from the last handler completion to every invocation completed in Postgres. */
  recordedInPostgresAfterMs?: number;
  /** Tributary: WAL bytes and transactions (whole Postgres) per event, mean handler call. */
  postgres?: PostgresCounters;
  /** Tributary: per-stage p50/p90/p99/p999 ms from the invocation rows (see TributarySystem.stages). */
  stagesMs?: Record<string, Record<string, number[]>>;
  paced?: PacedRun;
  details: Record<string, unknown>;
  exits: Record<string, string | number | null>;
  logs: Record<string, string>;
  profiles?: Record<string, ProfileSummary | null>;
}

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** A measured run as a row of the summary table: first record produced to last handled. */
export function throughputRow(
  scenario: string,
  system: string,
  w: Workload,
  run: SystemRun,
): ResultRow {
  const bytesPerRecord = recordKey(0, w.keys).length + w.recordBytes;
  return {
    scenario,
    system,
    window: 'first produced -> last handled',
    records: run.records,
    recordBytes: w.recordBytes,
    seconds: run.seconds,
    recordsPerSec: run.eventsPerSec,
    mbPerSec: round((run.records * bytesPerRecord) / run.seconds / 1e6),
    p50Ms: run.latencyMs?.p50,
    p99Ms: run.latencyMs?.p99,
    peakRssMiB: run.peakRssMiB,
  };
}

/** How to run Tributary other than the default (one worker, one invoker, the bench's broker). */
export interface RunOptions {
  /** Consumer workers and invokers (1 each by default). */
  workers?: number;
  invokers?: number;
  /** The Kafka cluster for the topic, the bus and the producer (the bench's broker by default). */
  brokers?: string[];
  /** The broker processes whose CPU is measured (the bench's single broker by default). */
  brokerPids?: { name: string; pid: number | undefined }[];
  /** `bus.replication-factor` (1 by default). */
  busReplicationFactor?: number;
  /** 2: the invocations spread over two Postgres clusters (`database.shards`); 1 by default. */
  shards?: number;
  /** The label of progress lines (the system's name by default). */
  label?: string;
}

/**
 * One system through one workload: start it, subscribe it to a fresh topic (earliest), wait for
 * the consumer group to be stable, warm up, then produce the N records while it is subscribed
 * and wait for the handler to have completed all of them; optionally a paced run; stop it and
 * delete its topic and groups. Everything it started is stopped before it returns.
 */
export async function runSystem(
  ctx: ScenarioContext,
  w: Workload,
  name: SystemName,
  opts: RunOptions = {},
): Promise<SystemRun> {
  const { progress } = ctx;
  const label = opts.label ?? name;
  const n = Math.round(w.records * ctx.scale);
  const warmupCount = Math.max(100, Math.min(1_000, Math.round(n / 10)));
  const keyed = w.sink !== 'service';
  const workDir = `${ctx.workDir}/${label}`;
  mkdirSync(workDir, { recursive: true });
  const profile = ctx.args.profile && name === 'tributary';

  const kafka = benchKafka(`bench-compare-${name}`, opts.brokers);
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-${w.name.toLowerCase()}-${name}-${Date.now()}-${randomBytes(3).toString('hex')}`;

  const system: System = createSystem(name, {
    workDir,
    profile,
    tributaryHandler: w.tributaryHandler,
    workers: opts.workers,
    invokers: opts.invokers,
    brokers: opts.brokers,
    busReplicationFactor: opts.busReplicationFactor,
    shards: opts.shards,
  });
  const samplers = new Map<string, RssSampler>();
  let stopped = false;
  let exits: Record<string, string | number | null> = {};
  const stopSystem = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const s of samplers.values()) s.stop();
    exits = await system.stop();
  };
  try {
    await ensureTopic(admin, topic, w.partitions);
    progress.log(`${label}: starting`);
    const t0Start = performance.now();
    await system.start();
    const startupSeconds = (performance.now() - t0Start) / 1000;
    const tSub = performance.now();
    const group = await system.subscribe(topic, w);
    const abort = system.abort();
    abort.catch(() => undefined);
    for (const p of system.processes()) samplers.set(p.name, new RssSampler(p.pid));
    // Every worker a member: one joining later would rebalance the group inside the window.
    const members = opts.workers ?? 1;
    await waitFor(
      () => groupStable(admin, group, members),
      `consumer group ${group} to be stable with ${members} member(s)`,
      {
        timeoutMs: 120_000,
        intervalMs: 100,
        abort,
      },
    );
    const subscribeToStableSeconds = (performance.now() - tSub) / 1000;
    const rssAtReadyMiB = Object.fromEntries(
      [...samplers].map(([proc, s]) => [proc, mib(s.current)]),
    );
    progress.log(
      `${label}: up in ${startupSeconds.toFixed(1)}s, subscribed (group stable) in ${subscribeToStableSeconds.toFixed(1)}s; warming up with ${fmtInt(warmupCount)} records`,
    );

    const waitHandled = (target: number, what: string, from: number): Promise<HandlerStats> =>
      waitForHandled(ctx, system, target, `${label} ${what}`, from, samplers, abort);

    // Warm-up: connections, JIT, pools; not measured.
    const tWarm = performance.now();
    await produceRecords(kafka, topic, {
      count: warmupCount,
      recordBytes: w.recordBytes,
      keys: w.keys,
    });
    await waitHandled(warmupCount, 'warm-up', Date.now());
    if (system instanceof TributarySystem) await settleTributary(system, warmupCount);
    const warmup = { records: warmupCount, seconds: round((performance.now() - tWarm) / 1000, 2) };
    await sleep(500);
    await resetStats(system.statsUrl);

    // The measured run: produce while subscribed, first record produced -> last completion.
    const brokers = opts.brokerPids ?? [{ name: 'kafka-broker', pid: localBrokerPid() }];
    const pgPid = await postgresPid();
    // With two shards, the second cluster's server is measured too (as `postgres-shard`).
    const shardPgPid = (opts.shards ?? 1) > 1 ? await postgresPid(SHARD_DATABASE_URL) : undefined;
    const snap = () =>
      cpuSnapshot(system.processes(), [
        ...brokers,
        { name: 'postgres', pid: pgPid },
        ...(shardPgPid ? [{ name: 'postgres-shard', pid: shardPgPid }] : []),
      ]);
    progress.log(`${label}: producing ${fmtInt(n)} records of ${w.recordBytes} B while subscribed`);
    const countersBefore = system instanceof TributarySystem ? await system.counters() : null;
    // Tributary: the backends of its apps' pool connections, read with the snapshots.
    const appPids =
      system instanceof TributarySystem
        ? system
            .processes()
            .filter((p) => p.name !== 'handler')
            .map((p) => p.pid)
        : [];
    const backendsBefore = appPids.length > 0 ? await postgresBackendsOf(appPids) : [];
    const backendCpuBefore = new Map(backendsBefore.map((pid) => [pid, readCpuSeconds(pid)]));
    const cpuBefore = snap();
    const usStart = monoUs();
    const t0 = Date.now();
    const produced = produceRecords(kafka, topic, {
      count: n,
      recordBytes: w.recordBytes,
      keys: w.keys,
    });
    produced.catch(() => undefined); // awaited below; a failure must not crash the harness first
    const stats = await waitHandled(n, 'measured', t0);
    const usEnd = monoUs();
    const cpuAfter = snap();
    const backendCpuAfter = new Map(backendsBefore.map((pid) => [pid, readCpuSeconds(pid)]));
    // Connections opened inside the window: all of their backend's CPU is in it.
    if (appPids.length > 0) {
      for (const pid of await postgresBackendsOf(appPids)) {
        if (!backendCpuAfter.has(pid)) backendCpuAfter.set(pid, readCpuSeconds(pid));
      }
    }
    const counters =
      system instanceof TributarySystem && countersBefore
        ? await system.countersBetween(countersBefore, await system.counters(), n)
        : undefined;
    if (counters) {
      const { statements, ...rest } = counters;
      progress.log(`${label}: ${JSON.stringify(rest)}`);
      if (statements) {
        progress.log(
          `${label}: Postgres statements per event (calls, µs, WAL bytes; pg_stat_statements):`,
        );
        for (const st of statements) {
          progress.log(
            `  ${String(st.callsPerEvent).padStart(6)} ${st.microsPerEvent.toFixed(1).padStart(7)} ` +
              `${String(st.walBytesPerEvent).padStart(6)}  ${st.query}`,
          );
        }
      }
    }
    const load = await produced;
    const seconds = Math.max(0.001, ((stats.lastEndAt ?? Date.now()) - t0) / 1000);
    const eventsPerSec = Math.round(n / seconds);
    progress.log(
      `${label}: ${fmtInt(n)} records in ${seconds.toFixed(2)}s = ${fmtInt(eventsPerSec)} events/s; ` +
        `latency p50 ${stats.latencyMs?.p50 ?? '?'} ms, p99 ${stats.latencyMs?.p99 ?? '?'} ms`,
    );
    let recordedInPostgresAfterMs: number | undefined;
    const stagesMs: Record<string, Record<string, number[]>> = {};
    if (system instanceof TributarySystem) {
      recordedInPostgresAfterMs = Math.max(
        0,
        (await settleTributary(system, warmupCount + n)) - (stats.lastEndAt ?? Date.now()),
      );
      stagesMs.measured = await system.stages(t0, Date.now());
      progress.log(`${label}: stages p50/p90/p99/p999 ms ${fmtStages(stagesMs.measured)}`);
    }

    let paced: PacedRun | undefined;
    let pacedCount = 0;
    if (w.paced) {
      const pacedSeconds = ctx.scale < 1 ? w.paced.quickSeconds : w.paced.seconds;
      pacedCount = w.paced.rate * pacedSeconds;
      await sleep(1_000);
      await resetStats(system.statsUrl);
      progress.log(
        `${label}: paced run, ${fmtInt(w.paced.rate)} records/s for ${pacedSeconds}s (${fmtInt(pacedCount)} records)`,
      );
      const tp = Date.now();
      const p = await producePaced(kafka, topic, {
        count: pacedCount,
        rate: w.paced.rate,
        recordBytes: w.recordBytes,
        keys: w.keys,
        firstIndex: n,
      });
      const ps = await waitHandled(pacedCount, 'paced', tp);
      const pSeconds = Math.max(0.001, ((ps.lastEndAt ?? Date.now()) - tp) / 1000);
      paced = {
        offeredPerSec: w.paced.rate,
        records: pacedCount,
        seconds: round(pSeconds, 3),
        eventsPerSec: Math.round(pacedCount / pSeconds),
        produceSeconds: round(p.seconds, 3),
        latencyMs: ps.latencyMs,
      };
      progress.log(
        `${label}: paced p50 ${ps.latencyMs?.p50 ?? '?'} ms, p99 ${ps.latencyMs?.p99 ?? '?'} ms, p999 ${ps.latencyMs?.p999 ?? '?'} ms, max ${ps.latencyMs?.max ?? '?'} ms`,
      );
      if (system instanceof TributarySystem) {
        await settleTributary(system, warmupCount + n + pacedCount);
        stagesMs.paced = await system.stages(tp, Date.now());
        progress.log(`${label}: paced stages p50/p90/p99/p999 ms ${fmtStages(stagesMs.paced)}`);
        const [p50, p90, p99, p999] = stagesMs.paced.recordToRecorded ?? [];
        if (p999 !== undefined) paced.toCompletionMs = { p50, p90, p99, p999 };
      }
    }

    const final = await fetchStats(system.statsUrl);
    const details = await system.details();
    const logs = system.logs();
    const peakRssMiB: Record<string, number> = {};
    const tStop = performance.now();
    await stopSystem();
    progress.log(`${label}: stopped in ${((performance.now() - tStop) / 1000).toFixed(1)}s`);
    for (const [proc, s] of samplers) peakRssMiB[proc] = mib(s.peak);

    let profiles: Record<string, ProfileSummary | null> | undefined;
    if (profile && system instanceof TributarySystem) {
      profiles = {
        invoker: summariseApp(system.profileDir('invoker'), usStart, usEnd, INVOKER_FRAMES),
        'consumer-worker': summariseApp(
          system.profileDir('consumer-worker'),
          usStart,
          usEnd,
          WORKER_FRAMES,
        ),
      };
      for (const [app, s] of Object.entries(profiles)) {
        if (s) progress.log(`${label} ${app}: ${formatProfile(s)}`);
      }
    }

    const expectedState = warmupCount + n + pacedCount;
    return {
      system: name,
      records: n,
      recordBytes: w.recordBytes,
      window: 'first record produced -> last handler completion',
      seconds: round(seconds, 3),
      eventsPerSec,
      produceSeconds: round(load.seconds, 3),
      latencyMs: stats.latencyMs,
      peakRssMiB,
      rssAtReadyMiB,
      cpu: cpuBetween(cpuBefore, cpuAfter, n, (usEnd - usStart) / 1e6),
      ...(appPids.length > 0
        ? {
            postgresBackendsCpu: backendCpu(
              backendCpuBefore,
              backendCpuAfter,
              n,
              (usEnd - usStart) / 1e6,
            ),
          }
        : {}),
      handled: stats.handled,
      distinct: stats.distinct,
      duplicates: stats.handled - stats.distinct,
      maxConcurrentInHandler: stats.maxConcurrent,
      ...(keyed
        ? {
            state: {
              expected: expectedState,
              actual: final.stateTotal,
              ok: final.stateTotal === expectedState,
            },
          }
        : {}),
      warmup,
      startupSeconds: round(startupSeconds, 2),
      subscribeToStableSeconds: round(subscribeToStableSeconds, 2),
      ...(recordedInPostgresAfterMs !== undefined ? { recordedInPostgresAfterMs, stagesMs } : {}),
      ...(counters ? { postgres: counters } : {}),
      ...(paced ? { paced } : {}),
      details,
      exits,
      logs,
      ...(profiles ? { profiles } : {}),
    };
  } finally {
    try {
      await stopSystem();
    } catch (err) {
      progress.log(
        `${label}: stopping failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const state = system.kafkaState();
    await removeKafkaState(admin, [topic, ...state.topics], state.groups).catch((err: unknown) =>
      progress.log(`${label}: removing topics failed: ${String(err)}`),
    );
    const left = await deleteGroupsPatiently(admin, state.groups).catch(() => state.groups);
    if (left.length > 0) progress.log(`${label}: consumer groups left behind: ${left.join(', ')}`);
    await admin.disconnect();
  }
}

/** CPU used by the backends between two reads (a backend new at the second counts from 0). */
function backendCpu(
  before: Map<number, number | null>,
  after: Map<number, number | null>,
  events: number,
  seconds: number,
): { backends: number; microsPerEvent: number; percentOfOneCore: number } {
  let used = 0;
  for (const [pid, a] of after) {
    if (a === null) continue;
    used += a - (before.get(pid) ?? 0);
  }
  return {
    backends: after.size,
    microsPerEvent: round((used / events) * 1e6, 1),
    percentOfOneCore: Math.round((used / seconds) * 100),
  };
}

const fmtStages = (s: Record<string, number[]>): string =>
  Object.entries(s)
    .map(([k, v]) => `${k} ${v.join('/')}`)
    .join(', ');

/** Polls the handler's stats until `target` distinct records were handled; a progress line. */
async function waitForHandled(
  ctx: ScenarioContext,
  system: System,
  target: number,
  what: string,
  from: number,
  samplers: Map<string, RssSampler>,
  abort: Promise<never>,
): Promise<HandlerStats> {
  const stallMs = 90_000;
  let lastDistinct = -1;
  let lastChange = Date.now();
  let rateFrom = { t: Date.now(), n: 0 };
  let rate = 0;
  for (;;) {
    const s = await Promise.race([fetchStats(system.statsUrl), abort]);
    if (s.distinct >= target) return s;
    const now = Date.now();
    if (s.distinct !== lastDistinct) {
      lastDistinct = s.distinct;
      lastChange = now;
    } else if (now - lastChange > stallMs) {
      throw new Error(
        `${what}: no progress for ${stallMs / 1000}s at ${s.distinct} / ${target} handled (logs: ${JSON.stringify(system.logs())})`,
      );
    }
    if (now - rateFrom.t >= 1_000) {
      rate = ((s.distinct - rateFrom.n) / (now - rateFrom.t)) * 1000;
      rateFrom = { t: now, n: s.distinct };
    }
    const rss = [...samplers].map(([p, r]) => `${p} ${Math.round(mib(r.current))}`).join(', ');
    ctx.progress.update(
      `${what}: ${fmtInt(s.distinct)} / ${fmtInt(target)} handled  ${fmtInt(rate)}/s  ${((now - from) / 1000).toFixed(1)}s  RSS MiB: ${rss}`,
    );
    await Promise.race([sleep(100), abort]);
  }
}

/** Waits until Postgres holds `expected` successfully completed invocations; returns when (ms). */
async function settleTributary(system: TributarySystem, expected: number): Promise<number> {
  await waitFor(
    async () => (await system.completedInPostgres()).success >= expected,
    `${expected} completed invocations in Postgres`,
    { timeoutMs: 120_000, intervalMs: 100, abort: system.abort() },
  );
  return Date.now();
}

const INVOKER_FRAMES: FrameMatcher[] = [
  {
    label: 'ingest: bus batch -> INSERT (CommandIngestor.handle)',
    functionName: 'handle',
    urlIncludes: 'command.ingestor',
  },
  { label: 'InvocationStore.insert', functionName: 'insert', urlIncludes: 'invocation.store' },
  { label: 'InvocationStore.claim', functionName: 'claim', urlIncludes: 'invocation.store' },
  { label: 'InvocationStore.finish', functionName: 'finish', urlIncludes: 'invocation.store' },
  {
    label: 'InvocationStore.loadState',
    functionName: 'loadState',
    urlIncludes: 'invocation.store',
  },
  {
    label: 'executor: execute (request build, call, outcome)',
    functionName: 'execute',
    urlIncludes: 'invocation.executor',
  },
  { label: 'HandlerClient (protocol over node:http)', urlIncludes: 'protocol/handler.client' },
  'decodeBusRecord',
  { label: 'scheduler', urlIncludes: 'invocation.scheduler' },
  {
    label: 'pg driver (pg, pg-protocol)',
    urlIncludes: ['node_modules/pg/', 'node_modules/pg-protocol/'],
  },
  { label: 'typeorm', urlIncludes: 'node_modules/typeorm/' },
  { label: 'kafkajs', urlIncludes: 'node_modules/kafkajs/' },
  { label: 'prom-client', urlIncludes: 'node_modules/prom-client/' },
  { label: 'nestjs', urlIncludes: 'node_modules/@nestjs/' },
];

const WORKER_FRAMES: FrameMatcher[] = [
  {
    label: 'eachBatch handler (convert + produce + commit)',
    functionName: 'handle',
    urlIncludes: 'subscription-runner',
  },
  {
    label: 'toInvocationCommand',
    functionName: 'toInvocationCommand',
    urlIncludes: 'record-converter',
  },
  { label: 'kafkajs', urlIncludes: 'node_modules/kafkajs/' },
];

function summariseApp(
  dir: string,
  fromUs: number,
  toUs: number,
  frames: FrameMatcher[],
): ProfileSummary | null {
  const file = latestProfile(dir);
  if (file === undefined) return null;
  return summariseProfile(file, { fromUs, toUs, top: 30, inclusiveOf: frames });
}
