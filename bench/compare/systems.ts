import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { busTopics } from '../../libs/shared/src/contracts/topics';
import {
  createTestSchema,
  SHARD_DATABASE_URL,
  TEST_DATABASE_URL,
  TestSchema,
} from '../../test/support/database';
import { BENCH_BROKERS } from '../lib/kafka';
import {
  BenchProcess,
  buildTributaryApps,
  freePort,
  healthy,
  ROOT,
  spawnNode,
  spawnTributaryApp,
} from '../lib/processes';
import { childPids } from '../lib/rss';
import { writeBenchConfig } from '../lib/tributary';
import { waitFor } from '../lib/wait';
import { restateServerToml } from '../../test/support/restate-server';
import { HANDLER, SERVICES, TributaryHandler, Workload } from './workloads';

export type SystemName = 'tributary' | 'baseline' | 'restate';

export const SYSTEM_NAMES: SystemName[] = ['tributary', 'baseline', 'restate'];

/** One system under test: its processes, how to subscribe it to a topic, how to stop it. */
export interface System {
  readonly name: SystemName;
  /** Starts the processes that run before any subscription; resolves when they answer. */
  start(): Promise<void>;
  /** Subscribes the workload's handler to `topic` from the earliest offset; the group to watch. */
  subscribe(topic: string, workload: Workload): Promise<string>;
  /** The processes to measure (RSS, CPU), by name. */
  processes(): { name: string; pid: number }[];
  /** Rejects as soon as one of its processes exits unexpectedly. */
  abort(): Promise<never>;
  /** Base URL of the handler process's stats endpoint. */
  readonly statsUrl: string;
  /** Figures only this system has (read before `stop`). */
  details(): Promise<Record<string, unknown>>;
  /** Stops every process; exit statuses by name. */
  stop(): Promise<Record<string, string | number | null>>;
  /** Kafka consumer groups and topics it created, to delete afterwards. */
  kafkaState(): { groups: string[]; topics: string[] };
  /** Log files by process name, relative to the repository. */
  logs(): Record<string, string>;
}

export interface TributaryCounters {
  lsn: string;
  xacts: number;
  handlerSeconds: number;
  handlerCalls: number;
  /** pg_stat_statements of this database by query id, when the extension is loaded. */
  statements: Map<string, StatementCounters> | null;
}

interface StatementCounters {
  query: string;
  calls: number;
  ms: number;
  walBytes: number;
}

/** What the statement profile shows of each statement: its share of one event. */
export interface StatementPerEvent {
  query: string;
  callsPerEvent: number;
  microsPerEvent: number;
  walBytesPerEvent: number;
}

/** Postgres between two `counters()`, per event. */
export interface PostgresCounters {
  walBytesPerEvent: number;
  transactionsPerEvent: number;
  handlerCallMeanMs: number | null;
  /** Most time first, when pg_stat_statements is loaded. */
  statements?: StatementPerEvent[];
}

/** The statements shown, by time: the rest are summed in one line. */
const STATEMENTS_SHOWN = 8;

export interface SystemOptions {
  workDir: string;
  /** Run the Tributary apps under `node --cpu-prof`, profiles in `<workDir>/cpu-profile/<app>`. */
  profile: boolean;
  /** Tributary's handler process (default `tributary-sdk`); see `Workload.tributaryHandler`. */
  tributaryHandler?: TributaryHandler;
  /** Tributary only: consumer workers and invokers to start (1 each by default). */
  workers?: number;
  invokers?: number;
  /** Tributary only: the brokers of its `local` cluster and bus (the bench's broker by default). */
  brokers?: string[];
  /** Tributary only: `bus.replication-factor` (the default, 1, when unset). */
  busReplicationFactor?: number;
  /** Tributary only: 2 spreads the invocations over the test Postgres and the second one. */
  shards?: number;
}

const REGISTER_TS = path.join(ROOT, 'scripts/register-ts.js');
const PROCS = path.join(ROOT, 'bench/compare/procs');

/** Base class: spawned processes, health waits, stop in reverse order. */
abstract class Spawned {
  protected readonly procs: BenchProcess[] = [];
  statsUrl = '';

  constructor(protected readonly opts: SystemOptions) {}

  protected add(proc: BenchProcess): BenchProcess {
    this.procs.push(proc);
    killOnExit(proc.pid);
    void proc.exited.then(() => spawnedPids.delete(proc.pid));
    return proc;
  }

  abort(): Promise<never> {
    return Promise.race(this.procs.map((p) => p.unexpectedExit));
  }

  processes(): { name: string; pid: number }[] {
    return this.procs.map((p) => ({ name: p.name, pid: p.pid }));
  }

  logs(): Record<string, string> {
    return Object.fromEntries(this.procs.map((p) => [p.name, path.relative(ROOT, p.logFile)]));
  }

  protected async waitHealthy(proc: BenchProcess, url: string, what: string): Promise<void> {
    await waitFor(
      async () => {
        try {
          const res = await fetch(url);
          await res.body?.cancel();
          return res.ok;
        } catch {
          return false;
        }
      },
      `${what} (log: ${proc.logFile})`,
      { timeoutMs: 120_000, intervalMs: 100, abort: proc.unexpectedExit },
    );
  }

  protected async startHandler(script: string, nodeFlags: string[], env: Record<string, string>) {
    for (let attempt = 1; ; attempt++) {
      // A port found free can be taken (e.g. as the local port of an outgoing connection) before
      // the handler listens on it: then the handler exits with EADDRINUSE and gets new ports.
      const handlerPort = await freePort();
      const statsPort = await freePort();
      const proc = this.add(
        spawnNode('handler', path.join(PROCS, script), {
          nodeFlags: ['-r', REGISTER_TS, ...nodeFlags],
          env: { HANDLER_PORT: String(handlerPort), STATS_PORT: String(statsPort), ...env },
          logDir: this.opts.workDir,
        }),
      );
      this.statsUrl = `http://127.0.0.1:${statsPort}`;
      const url = `http://127.0.0.1:${handlerPort}`;
      try {
        await this.waitHealthy(proc, `${this.statsUrl}/health`, 'the handler process');
        // Its own line, printed once it listens on both ports: another process that took the
        // stats port first would answer the health check above for it (seen with 4+4 apps).
        await waitFor(
          () => proc.tail(1_000).includes(` on ${url}`),
          `the handler process to listen on ${url} (log: ${proc.logFile})`,
          { timeoutMs: 120_000, intervalMs: 100, abort: proc.unexpectedExit },
        );
        return { proc, url };
      } catch (err) {
        if (attempt >= 3 || !proc.tail().includes('EADDRINUSE')) throw err;
        this.procs.splice(this.procs.indexOf(proc), 1);
      }
    }
  }

  async stop(): Promise<Record<string, string | number | null>> {
    const out: Record<string, string | number | null> = {};
    for (const p of [...this.procs].reverse()) {
      const status = await p.stop(60_000);
      out[p.name] = status.signal ?? status.code;
    }
    return out;
  }
}

async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}

function expectCreated(what: string, res: { status: number; body: unknown }): void {
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
}

/**
 * Tributary: admin-api, consumer-worker and invoker, one process each, compiled (`npm run build`,
 * once per bench process) and with their production node flags, on their own Postgres schema and
 * bus topics; the handlers (written with
 * @tributary/sdk, or with @restatedev/restate-sdk: `SystemOptions.tributaryHandler`) in a fourth
 * process. Registered and subscribed through the admin API.
 */
export class TributarySystem extends Spawned implements System {
  readonly name = 'tributary';
  private schema?: TestSchema;
  private ds?: DataSource;
  /** With `shards: 2`: the second shard's schema (same name, other cluster) and data source. */
  private shardSchema?: TestSchema;
  private shardDs?: DataSource;
  private readonly busPrefix = `bench-cmp-bus-${Date.now()}-${randomBytes(3).toString('hex')}`;
  private adminUrl = '';
  private readonly invokerUrls: string[] = [];
  private readonly subscriptions: string[] = [];

  async start(): Promise<void> {
    buildTributaryApps(); // before anything is timed; a no-op after the first time
    this.schema = await createTestSchema('bench_cmp');
    this.ds = await this.schema.migrated();
    // Development aid for experiments on the bench's own schema (e.g. dropping an index); unset
    // normally.
    if (process.env.BENCH_TRIBUTARY_SQL) await this.ds.query(process.env.BENCH_TRIBUTARY_SQL);
    if ((this.opts.shards ?? 1) > 1) {
      this.shardSchema = await createTestSchema('bench_cmp', SHARD_DATABASE_URL, this.schema.name);
      this.shardDs = await this.shardSchema.migrated();
    }
    const configFile = writeBenchConfig({
      dir: this.opts.workDir,
      schema: this.schema.name,
      shards: this.shardDs ? [TEST_DATABASE_URL, SHARD_DATABASE_URL] : undefined,
      busPrefix: this.busPrefix,
      busPartitions: 16,
      brokers: this.opts.brokers,
      // Development aid for experiments (e.g. "[invoker]\nconcurrency = 1024"); unset normally.
      extra: [
        ...(this.opts.busReplicationFactor
          ? [`replication-factor = ${this.opts.busReplicationFactor}`]
          : []),
        ...(process.env.BENCH_TRIBUTARY_TOML?.split('\\n') ?? []),
      ],
    });
    // Development aid for experiments (e.g. "--max-semi-space-size=4"); unset normally.
    const extraFlags = (process.env.BENCH_TRIBUTARY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const app = async (
      name: 'admin-api' | 'consumer-worker' | 'invoker',
      env: Record<string, string>,
      bindEnv: string,
      // Several workers or invokers: `consumer-worker-1`, `invoker-2`, ... in logs and figures.
      procName: string = name,
    ): Promise<void> => {
      const port = await freePort();
      const profileDir = path.join(this.opts.workDir, 'cpu-profile', procName);
      if (this.opts.profile) mkdirSync(profileDir, { recursive: true });
      const proc = this.add(
        spawnTributaryApp(name, {
          name: procName,
          args: ['--config-file', configFile],
          env: { [bindEnv]: `127.0.0.1:${port}`, ...env },
          nodeFlags: [
            ...extraFlags,
            ...(this.opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
          ],
          logDir: this.opts.workDir,
        }),
      );
      await waitFor(() => healthy(port), `${name} to answer /health (log: ${proc.logFile})`, {
        timeoutMs: 120_000,
        intervalMs: 100,
        abort: proc.unexpectedExit,
      });
      if (name === 'admin-api') this.adminUrl = `http://127.0.0.1:${port}`;
      if (name === 'invoker') this.invokerUrls.push(`http://127.0.0.1:${port}`);
    };
    const workers = this.opts.workers ?? 1;
    const invokers = this.opts.invokers ?? 1;
    // The i-th of `count` processes: `name` alone when it is the only one, `name-<i+1>` otherwise.
    const nth = (name: string, i: number, count: number) =>
      count === 1 ? name : `${name}-${i + 1}`;
    await Promise.all([
      app('admin-api', {}, 'TRIBUTARY_ADMIN_BIND_ADDRESS'),
      ...Array.from({ length: workers }, (_, i) =>
        app(
          'consumer-worker',
          { TRIBUTARY_WORKER_ID: nth('bench-worker', i, workers) },
          'TRIBUTARY_WORKER_BIND_ADDRESS',
          nth('consumer-worker', i, workers),
        ),
      ),
      ...Array.from({ length: invokers }, (_, i) =>
        app(
          'invoker',
          { TRIBUTARY_INVOKER_ID: nth('bench-invoker', i, invokers) },
          'TRIBUTARY_INVOKER_BIND_ADDRESS',
          nth('invoker', i, invokers),
        ),
      ),
    ]);
    // The same handler process as the Restate system's for `restate-sdk`: the admin API discovers
    // it over HTTP/2 and the invoker speaks Restate's service protocol to it.
    const handler =
      this.opts.tributaryHandler === 'restate-sdk'
        ? await this.startHandler('restate-handler.ts', ['-r', POLYFILL], RESTATE_HANDLER_ENV)
        : await this.startHandler('tributary-handler.ts', [], {});
    expectCreated(
      'POST /deployments',
      await postJson(`${this.adminUrl}/deployments`, { uri: handler.url }),
    );
  }

  async subscribe(topic: string, workload: Workload): Promise<string> {
    const res = await postJson(`${this.adminUrl}/subscriptions`, {
      source: `kafka://local/${topic}`,
      sink: `service://${SERVICES[workload.sink]}/${HANDLER}`,
      options: {
        'auto.offset.reset': 'earliest',
        // Development aid for experiments (e.g. '{"fetch.max.bytes": "1048576"}'); unset normally.
        ...(JSON.parse(process.env.BENCH_TRIBUTARY_SUBSCRIPTION_OPTIONS ?? '{}') as Record<
          string,
          string
        >),
      },
    });
    expectCreated('POST /subscriptions', res);
    const id = res.body.id as string;
    this.subscriptions.push(id);
    return id;
  }

  /** Invocations recorded as completed in Postgres (every shard), by result. */
  async completedInPostgres(): Promise<{ success: number; failure: number; open: number }> {
    const rows: { status: string; result: string | null; n: number }[] = (
      await Promise.all(
        [this.ds!, ...(this.shardDs ? [this.shardDs] : [])].map((ds) =>
          ds.query<{ status: string; result: string | null; n: number }[]>(
            `SELECT status, completion_result AS result, count(*)::int AS n FROM invocations
              GROUP BY status, completion_result`,
          ),
        ),
      )
    ).flat();
    const n = (pred: (r: (typeof rows)[number]) => boolean): number =>
      rows.filter(pred).reduce((s, r) => s + r.n, 0);
    return {
      success: n((r) => r.status === 'completed' && r.result === 'success'),
      failure: n((r) => r.status === 'completed' && r.result === 'failure'),
      open: n((r) => r.status !== 'completed'),
    };
  }

  /**
   * Where an invocation's time went, from the timestamps Tributary keeps on each row, for the
   * records produced in [fromMs, toMs): record timestamp -> row inserted (worker, bus, invoker
   * ingest), inserted -> claimed (`running_at`: scheduling, per-key wait, claim queue), claimed ->
   * completion recorded (`completed_at`: the handler call, then the finish queue). p50/p90/p99/p999
   * ms.
   */
  async stages(fromMs: number, toMs: number): Promise<Record<string, number[]>> {
    const [row]: Record<string, number[] | null>[] = await this.ds!.query(
      `SELECT
         percentile_cont(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP
           (ORDER BY extract(epoch FROM created_at) * 1000 - kafka_timestamp) AS "recordToInserted",
         percentile_cont(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP
           (ORDER BY extract(epoch FROM running_at - created_at) * 1000) AS "insertedToClaimed",
         percentile_cont(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP
           (ORDER BY extract(epoch FROM completed_at - running_at) * 1000) AS "claimedToRecorded",
         percentile_cont(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP
           (ORDER BY extract(epoch FROM completed_at) * 1000 - kafka_timestamp) AS "recordToRecorded"
       FROM invocations WHERE kafka_timestamp >= $1 AND kafka_timestamp < $2`,
      [fromMs, toMs],
    );
    return Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, (v ?? []).map((x) => Math.round(Number(x)))]),
    );
  }

  /** Postgres-wide WAL position and transaction count, and the invokers' handler-call metrics. */
  async counters(): Promise<TributaryCounters> {
    const [pg]: { lsn: string; xacts: string }[] = await this.ds!.query(
      `SELECT pg_current_wal_lsn()::text AS lsn,
              (SELECT xact_commit + xact_rollback FROM pg_stat_database
                WHERE datname = current_database())::text AS xacts`,
    );
    const metrics = (
      await Promise.all(
        this.invokerUrls.map((url) =>
          fetch(`${url}/metrics`)
            .then((r) => r.text())
            .catch(() => ''),
        ),
      )
    ).join('\n');
    const metric = (name: string): number =>
      [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    return {
      lsn: pg.lsn,
      xacts: Number(pg.xacts),
      handlerSeconds: metric('tributary_invoker_handler_duration_seconds_sum'),
      handlerCalls: metric('tributary_invoker_handler_duration_seconds_count'),
      statements: await this.statements(),
    };
  }

  /**
   * Each statement's calls, execution time and WAL so far in this database, from
   * pg_stat_statements; null when the extension is not loaded (it needs
   * `shared_preload_libraries`, docs/benchmarks.md). Statements run by triggers are listed apart
   * only with `pg_stat_statements.track = all`, and their time is also in the statement that
   * fired them.
   */
  private async statements(): Promise<Map<string, StatementCounters> | null> {
    const [ext]: { schema: string }[] = await this.ds!.query(
      `SELECT n.nspname AS schema FROM pg_extension e
         JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`,
    );
    if (!ext) return null;
    let rows: { id: string; query: string; calls: string; ms: number; wal: string }[];
    try {
      rows = await this.ds!.query(
        `SELECT queryid::text AS id, query, calls::text, total_exec_time AS ms,
                wal_bytes::text AS wal
           FROM "${ext.schema}".pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
    } catch {
      return null; // created, but the library is not in shared_preload_libraries
    }
    return new Map(
      rows.map((r) => [
        r.id,
        { query: r.query, calls: Number(r.calls), ms: Number(r.ms), walBytes: Number(r.wal) },
      ]),
    );
  }

  /** What happened between two `counters()`, per event. */
  async countersBetween(
    a: TributaryCounters,
    b: TributaryCounters,
    events: number,
  ): Promise<PostgresCounters> {
    const [row]: { bytes: string }[] = await this.ds!.query(
      `SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes`,
      [b.lsn, a.lsn],
    );
    const calls = b.handlerCalls - a.handlerCalls;
    return {
      walBytesPerEvent: Math.round(Number(row.bytes) / events),
      transactionsPerEvent: Math.round(((b.xacts - a.xacts) / events) * 100) / 100,
      handlerCallMeanMs:
        calls > 0 ? Math.round(((b.handlerSeconds - a.handlerSeconds) / calls) * 1e4) / 10 : null,
      ...(a.statements && b.statements
        ? { statements: statementsPerEvent(a.statements, b.statements, events) }
        : {}),
    };
  }

  async details(): Promise<Record<string, unknown>> {
    const invocations = await this.completedInPostgres();
    const rows = invocations.success + invocations.failure + invocations.open;
    // A backend publishes its table counts when it goes idle, up to 10 s later (Postgres 15):
    // wait until every row's insert is counted, or 12 s, so a short run's counts are whole.
    const deadline = Date.now() + 12_000;
    let table: Record<string, string>[];
    for (;;) {
      table = await this.ds!.query(
        `SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables
          WHERE schemaname = $1 AND relname = 'invocations'`,
        [this.schema!.name],
      );
      if (Number(table[0]?.n_tup_ins ?? 0) >= rows || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const retried: { n: number }[] = await this.ds!.query(
      `SELECT count(*)::int AS n FROM invocations WHERE retry_count > 0`,
    );
    return {
      invocations,
      invocationsRetried: retried[0].n,
      invocationsTableStats: Object.fromEntries(
        Object.entries(table[0] ?? {}).map(([k, v]) => [k, Number(v)]),
      ),
    };
  }

  profileDir(app: 'admin-api' | 'consumer-worker' | 'invoker'): string {
    return path.join(this.opts.workDir, 'cpu-profile', app);
  }

  override async stop(): Promise<Record<string, string | number | null>> {
    try {
      return await super.stop();
    } finally {
      await this.schema?.drop();
      await this.shardSchema?.drop();
    }
  }

  kafkaState(): { groups: string[]; topics: string[] } {
    const bus = busTopics(this.busPrefix).invocations;
    return { groups: [...this.subscriptions, `${bus}.invokers`], topics: [bus] };
  }
}

/**
 * The baseline: a plain kafkajs consumer (partition-serial, eachMessage) POSTing every record to
 * a node:http handler that keeps its state in memory. Two processes, no durability.
 */
export class BaselineSystem extends Spawned implements System {
  readonly name = 'baseline';
  private handlerUrl = '';
  private readonly groups: string[] = [];

  async start(): Promise<void> {
    this.handlerUrl = (await this.startHandler('baseline-handler.ts', [], {})).url;
  }

  async subscribe(topic: string, workload: Workload): Promise<string> {
    const groupId = `bench-baseline-${topic}`;
    this.groups.push(groupId);
    // The consumer is the subscription: started here; the caller waits for its group to be stable.
    this.add(
      spawnNode('consumer', path.join(PROCS, 'baseline-consumer.ts'), {
        nodeFlags: ['-r', REGISTER_TS],
        env: {
          BROKERS: BENCH_BROKERS.join(','),
          TOPIC: topic,
          GROUP_ID: groupId,
          PARTITIONS: String(workload.partitions),
          TARGET_URL: `${this.handlerUrl}/${SERVICES[workload.sink]}/${HANDLER}`,
        },
        logDir: this.opts.workDir,
      }),
    );
    return groupId;
  }

  async details(): Promise<Record<string, unknown>> {
    return {};
  }

  kafkaState(): { groups: string[]; topics: string[] } {
    return { groups: this.groups, topics: [] };
  }
}

/**
 * The Restate server from npm (`node_modules/.bin/restate-server`, which runs the native binary
 * as its child), with a config file of our own: its own ports on loopback (Tributary's admin API
 * also defaults to 9070), a fresh data directory, the local broker as Kafka cluster `local`;
 * Restate's defaults otherwise. The handlers, written with @restatedev/restate-sdk, in their own
 * process, registered and subscribed through Restate's admin API.
 */
export class RestateSystem extends Spawned implements System {
  readonly name = 'restate';
  private adminUrl = '';
  private dataDir = '';
  private serverPid: number | undefined;
  private readonly groups: string[] = [];

  async start(): Promise<void> {
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'tributary-bench-restate-'));
    const [adminPort, ingressPort, nodePort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const configFile = path.join(this.opts.workDir, 'restate.toml');
    writeFileSync(
      configFile,
      restateServerToml({
        nodeName: 'bench',
        baseDir: this.dataDir,
        nodePort,
        adminPort,
        ingressPort,
        brokers: BENCH_BROKERS,
      }),
    );
    const server = this.add(
      spawnNode('restate-server', path.join(ROOT, 'node_modules/.bin/restate-server'), {
        args: ['--config-file', configFile, '--no-logo'],
        logDir: this.opts.workDir,
      }),
    );
    this.adminUrl = `http://127.0.0.1:${adminPort}`;
    await this.waitHealthy(server, `${this.adminUrl}/health`, 'the Restate admin API');
    // The npm wrapper is a node script that spawns the native server: measure the server.
    this.serverPid = await waitFor(
      () => childPids(server.pid)[0],
      'the restate-server binary under its npm wrapper',
      { timeoutMs: 10_000, abort: server.unexpectedExit },
    );
    killOnExit(this.serverPid);
    const handler = await this.startHandler(
      'restate-handler.ts',
      ['-r', POLYFILL],
      RESTATE_HANDLER_ENV,
    );
    expectCreated(
      'POST /deployments (Restate)',
      await postJson(`${this.adminUrl}/deployments`, { uri: handler.url }),
    );
  }

  override processes(): { name: string; pid: number }[] {
    return super
      .processes()
      .map((p) =>
        p.name === 'restate-server' && this.serverPid !== undefined
          ? { name: p.name, pid: this.serverPid }
          : p,
      );
  }

  async subscribe(topic: string, workload: Workload): Promise<string> {
    const res = await postJson(`${this.adminUrl}/subscriptions`, {
      source: `kafka://local/${topic}`,
      sink: `service://${SERVICES[workload.sink]}/${HANDLER}`,
      options: { 'auto.offset.reset': 'earliest' },
    });
    expectCreated('POST /subscriptions (Restate)', res);
    const options = (res.body.options ?? {}) as Record<string, string>;
    const group = options['group.id'] ?? (res.body.id as string);
    this.groups.push(group);
    return group;
  }

  async details(): Promise<Record<string, unknown>> {
    return { restateDataDirMiB: dirMiB(this.dataDir) };
  }

  override async stop(): Promise<Record<string, string | number | null>> {
    try {
      return await super.stop();
    } finally {
      // The wrapper exits when the server has, unless the wrapper had to be killed: then the
      // server may be left behind, still recognisable by its command line.
      if (this.serverPid !== undefined) {
        spawnedPids.delete(this.serverPid);
        if (isRestateServer(this.serverPid)) process.kill(this.serverPid, 'SIGKILL');
      }
      if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  kafkaState(): { groups: string[]; topics: string[] } {
    return { groups: this.groups, topics: [] };
  }
}

const POLYFILL = path.join(ROOT, 'bench/restate/polyfill.js');
const RESTATE_HANDLER_ENV = { RESTATE_LOGGING: 'WARN' };

/**
 * Processes still running when the harness exits (it crashed, or was interrupted) get SIGKILL, so
 * no app, handler or Restate server outlives the bench. Pids are dropped as they exit.
 */
const spawnedPids = new Set<number>();
let exitHookInstalled = false;

function killOnExit(pid: number): void {
  spawnedPids.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of spawnedPids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function isRestateServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('restate-server');
  } catch {
    return false;
  }
}

function dirMiB(dir: string): number | null {
  try {
    let bytes = 0;
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) bytes += statSize(p);
      }
    };
    walk(dir);
    return Math.round((bytes / 1024 / 1024) * 10) / 10;
  } catch {
    return null;
  }
}

function statSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function createSystem(name: SystemName, opts: SystemOptions): System {
  switch (name) {
    case 'tributary':
      return new TributarySystem(opts);
    case 'baseline':
      return new BaselineSystem(opts);
    case 'restate':
      return new RestateSystem(opts);
  }
}

/**
 * The statements that ran between two snapshots, most time first, per event: the first
 * STATEMENTS_SHOWN, then the rest summed. Query text is cut to its first 100 characters.
 */
function statementsPerEvent(
  before: Map<string, StatementCounters>,
  after: Map<string, StatementCounters>,
  events: number,
): StatementPerEvent[] {
  const ran = [...after].flatMap(([id, b]) => {
    const a = before.get(id) ?? { calls: 0, ms: 0, walBytes: 0 };
    const calls = b.calls - a.calls;
    return calls > 0
      ? [{ query: b.query, calls, ms: b.ms - a.ms, walBytes: b.walBytes - a.walBytes }]
      : [];
  });
  ran.sort((x, y) => y.ms - x.ms);
  const shown = ran.slice(0, STATEMENTS_SHOWN);
  const rest = ran.slice(STATEMENTS_SHOWN);
  if (rest.length > 0) {
    shown.push({
      query: `(${rest.length} other statements)`,
      calls: rest.reduce((n, r) => n + r.calls, 0),
      ms: rest.reduce((n, r) => n + r.ms, 0),
      walBytes: rest.reduce((n, r) => n + r.walBytes, 0),
    });
  }
  return shown.map((r) => ({
    query: r.query.replace(/\s+/g, ' ').trim().slice(0, 100),
    callsPerEvent: Math.round((r.calls / events) * 1000) / 1000,
    microsPerEvent: Math.round(((r.ms * 1000) / events) * 10) / 10,
    walBytesPerEvent: Math.round(r.walBytes / events),
  }));
}
