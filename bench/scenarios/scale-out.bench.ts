import { round } from '../compare/measure';
import { runSystem, SystemRun, throughputRow } from '../compare/run-system';
import { WORKLOADS } from '../compare/workloads';
import { fmtInt } from '../lib/progress';
import type { ResultRow } from '../lib/results';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario';
import { CLUSTER_BROKERS, clusterDown, clusterUp, nodePid } from '../../test/support/cluster';

/**
 * scale-out: S2 (unkeyed, 100,000 records of 1 KiB, 8 partitions, service handler) run by
 * Tributary with 1, 2 and 4 consumer workers and as many invokers, against the local 3-broker
 * cluster (scripts/infra-up.sh --brokers 3; the bus at replication factor 3, the source topic at
 * 1). Opt-in (`--only scale-out`): it starts that cluster, and stops it afterwards unless it was
 * running already. See docs/benchmarks.md and docs/scaling.md.
 */
const SIZES = [1, 2, 4];
const BUS_REPLICATION_FACTOR = 3;

/** The figures of one size: events/s and CPU per event, by process and summed. */
function figuresOf(n: number, r: SystemRun) {
  const us = r.cpu.microsPerEvent;
  const sum = (pred: (name: string) => boolean): number =>
    round(
      Object.entries(us)
        .filter(([name]) => pred(name))
        .reduce((s, [, v]) => s + v, 0),
      1,
    );
  const isTributary = (p: string) =>
    p === 'admin-api' || p.startsWith('consumer-worker') || p.startsWith('invoker');
  return {
    workers: n,
    invokers: n,
    eventsPerSec: r.eventsPerSec,
    seconds: r.seconds,
    p50Ms: r.latencyMs?.p50 ?? null,
    p99Ms: r.latencyMs?.p99 ?? null,
    cpuMicrosPerEvent: us,
    cpuMicrosPerEventTotals: {
      tributary: sum(isTributary),
      consumerWorkers: sum((p) => p.startsWith('consumer-worker')),
      invokers: sum((p) => p.startsWith('invoker')),
      kafkaBrokers: sum((p) => p.startsWith('kafka-broker')),
      // Both servers with two shards (`postgres`, `postgres-shard`).
      postgres: sum((p) => p.startsWith('postgres')),
      handler: sum((p) => p === 'handler'),
      all: sum(() => true),
    },
    /** The Postgres backends of Tributary's connections: its part of `postgres` above. */
    postgresBackendsOfTributary: r.postgresBackendsCpu ?? null,
    percentOfOneCore: r.cpu.percentOfOneCore,
    machineBusyPercent: r.cpu.machineBusyPercent,
    postgres: r.postgres ?? null,
    peakRssMiB: r.peakRssMiB,
    handled: r.handled,
    duplicates: r.duplicates,
    invocations: (r.details as { invocations?: unknown }).invocations ?? null,
  };
}

/** The 3-broker cluster, started for the scenario unless it runs already. */
async function cluster(ctx: ScenarioContext, scenario: string) {
  const wasRunning = nodePid(1) !== undefined;
  ctx.progress.log(
    `${scenario}: ${wasRunning ? 'the 3-broker cluster is running already' : 'starting the 3-broker cluster'}`,
  );
  const brokers = await clusterUp();
  if (!wasRunning) ctx.defer('stop the 3-broker cluster', () => clusterDown());
  const brokerPids = Array.from({ length: CLUSTER_BROKERS }, (_, i) => ({
    name: `kafka-broker-${i + 1}`,
    pid: nodePid(i + 1),
  }));
  return { brokers, brokerPids, wasRunning };
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const w = WORKLOADS.S2;
  const { brokers, brokerPids, wasRunning } = await cluster(ctx, 'scale-out');

  const runs: { n: number; run: SystemRun }[] = [];
  const failed: Record<string, string> = {};
  for (const n of SIZES) {
    const label = `tributary-${n}+${n}`;
    try {
      const r = await runSystem(ctx, w, 'tributary', {
        workers: n,
        invokers: n,
        brokers,
        brokerPids,
        busReplicationFactor: BUS_REPLICATION_FACTOR,
        label,
      });
      runs.push({ n, run: r });
    } catch (err) {
      // One size failing is a result too: the others still run and are reported.
      failed[label] = err instanceof Error ? err.message : String(err);
      ctx.progress.log(`${label} FAILED: ${failed[label]}`);
    }
  }
  if (runs.length === 0) throw new Error(`every size failed: ${JSON.stringify(failed)}`);

  const curve = runs.map(({ n, run: r }) => figuresOf(n, r));
  const base = curve.find((c) => c.workers === 1)?.eventsPerSec;
  for (const c of curve) {
    const t = c.cpuMicrosPerEventTotals;
    ctx.progress.log(
      `scale-out ${c.workers}+${c.invokers}: ${fmtInt(c.eventsPerSec)} events/s` +
        (base ? ` (${(c.eventsPerSec / base).toFixed(2)}x 1+1)` : '') +
        `; CPU µs/event: workers ${t.consumerWorkers}, invokers ${t.invokers}, postgres ${t.postgres} (Tributary's backends ${c.postgresBackendsOfTributary?.microsPerEvent ?? '?'}), brokers ${t.kafkaBrokers}, handler ${t.handler}, all ${t.all}; machine busy ${c.machineBusyPercent ?? '?'} %`,
    );
  }

  const n = Math.round(w.records * ctx.scale);
  const rows: ResultRow[] = runs.map(({ n: size, run: r }) =>
    throughputRow('scale-out', `tributary ${size} workers + ${size} invokers`, w, r),
  );
  return {
    rows,
    details: {
      workload: { ...w, records: n },
      cluster: {
        brokers,
        busReplicationFactor: BUS_REPLICATION_FACTOR,
        sourceReplicationFactor: 1,
        busPartitions: 16,
        startedByScenario: !wasRunning,
      },
      measuredWindow:
        'first record produced (Tributary subscribed, its consumer group stable with every worker, warmed up) -> last handler completion',
      curve,
      ...(Object.keys(failed).length > 0 ? { failed } : {}),
      systems: Object.fromEntries(runs.map(({ n: size, run: r }) => [`${size}+${size}`, r])),
    },
  };
}

export const scaleOutScenario: Scenario = {
  name: 'scale-out',
  description:
    'S2 (unkeyed) with 1+1, 2+2 and 4+4 workers+invokers on the 3-broker cluster (opt-in: --only scale-out)',
  optIn: true,
  run,
};

/**
 * scale-out-shards: the scale-out curve (S2 with 1+1, 2+2 and 4+4 workers+invokers on the 3-broker
 * cluster) with the invocations in one Postgres and in two (`database.shards`: the test cluster and
 * the second one scripts/infra-up.sh starts on port 5433), the two runs of each size back to back.
 * Both servers run on this machine, so this shows what sharding costs and that nothing is lost,
 * not the gain of a second machine. Opt-in (`--only scale-out-shards`).
 */
async function runShards(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const w = WORKLOADS.S2;
  const { brokers, brokerPids } = await cluster(ctx, 'scale-out-shards');
  const runs: { size: number; shards: number; run: SystemRun }[] = [];
  const failed: Record<string, string> = {};
  const name = (size: number, shards: number) =>
    `${size}+${size}, ${shards} shard${shards > 1 ? 's' : ''}`;
  for (const size of SIZES) {
    for (const shards of [1, 2]) {
      const label = `tributary-${size}+${size}-${shards}-shard${shards > 1 ? 's' : ''}`;
      try {
        const r = await runSystem(ctx, w, 'tributary', {
          workers: size,
          invokers: size,
          brokers,
          brokerPids,
          busReplicationFactor: BUS_REPLICATION_FACTOR,
          shards,
          label,
        });
        runs.push({ size, shards, run: r });
      } catch (err) {
        failed[label] = err instanceof Error ? err.message : String(err);
        ctx.progress.log(`${label} FAILED: ${failed[label]}`);
      }
    }
  }
  if (runs.length === 0) throw new Error(`every run failed: ${JSON.stringify(failed)}`);
  const curve = runs.map(({ size, shards, run: r }) => ({ shards, ...figuresOf(size, r) }));
  for (const c of curve) {
    const t = c.cpuMicrosPerEventTotals;
    ctx.progress.log(
      `scale-out-shards ${name(c.workers, c.shards)}: ${fmtInt(c.eventsPerSec)} events/s; CPU µs/event: workers ${t.consumerWorkers}, invokers ${t.invokers}, postgres (both servers) ${t.postgres}, brokers ${t.kafkaBrokers}, handler ${t.handler}, all ${t.all}; machine busy ${c.machineBusyPercent ?? '?'} %`,
    );
  }
  return {
    rows: runs.map(({ size, shards, run: r }) =>
      throughputRow('scale-out-shards', `tributary ${name(size, shards)}`, w, r),
    ),
    details: {
      workload: { ...w, records: Math.round(w.records * ctx.scale) },
      curve,
      ...(Object.keys(failed).length > 0 ? { failed } : {}),
      systems: Object.fromEntries(runs.map(({ size, shards, run: r }) => [name(size, shards), r])),
    },
  };
}

export const scaleOutShardsScenario: Scenario = {
  name: 'scale-out-shards',
  description:
    'scale-out (S2, 1+1, 2+2, 4+4 on the 3-broker cluster) with the invocations in one Postgres, then in two (opt-in: --only scale-out-shards)',
  optIn: true,
  run: runShards,
};
