import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  Bus,
  BusMessageError,
  CallCommand,
  decodeBusRecord,
  InvocationControl,
  invokerGroup,
  isExclusive,
  KafkajsBatchConsumer,
  keyOf,
  mayStart,
  RecordBatch,
  BatchContext,
  endWithError,
  handlerHeaders,
  invocationFields,
  LogLine,
} from '@tributary/shared';
import { InvocationExecutor, SCHEDULER } from '../execution/invocation.executor';
import {
  ArrivedCommand,
  DirectStart,
  Inserted,
  InvocationStore,
  OpenInvocation,
} from '../execution/invocation.store';
import { InvokerMetrics } from '../invoker.metrics';
import { InvocationScheduler } from '../scheduling/invocation.scheduler';
import { traceInsert } from './insert-tracing';
import { failedCommand, storableCommand } from './storable-command';

/** Commands of one batch to start with their insert; the batches of a fetch are inserted together. */
type StartRequest = Pick<DirectStart, 'ids' | 'keys'>;

/** The next commands of a batch to insert (up to `end`), and those of them to start. */
interface Chunk {
  end: number;
  start?: StartRequest;
}

/** How often suspended invocations that became due unannounced are looked for. */
const SWEEP_MS = 2_000;

/**
 * Above this many open invocations in memory (suspended ones not counted), ingestion waits:
 * memory stays bounded under lag.
 */
const MAX_SCHEDULED = 10_000;

/**
 * Backpressure that saves a row version: under a backlog, a batch goes in in chunks that end
 * before the first command that could start but finds no free concurrency, so that each command
 * that can start starts with its insert instead of waiting in memory to be claimed (an UPDATE of
 * its row). A chunk shorter than MIN_ROOM commands (or the rest of the batch) waits for
 * invocations here to finish, at most ROOM_WAIT_MS; then the rest of the batch goes in, so
 * handlers that hold every slot for long never stop the bus from being read (control messages,
 * the records of other keys).
 */
const ROOM_WAIT_MS = 1_000;
const MIN_ROOM = 32;

/**
 * Reads invocation commands from the bus, persists them (one multi-row insert per batch) and only
 * then lets the batch's offset be committed. The bus partitions it is assigned decide which
 * invocations it schedules: on assignment it loads their open invocations from Postgres.
 */
@Injectable()
export class CommandIngestor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ingestor');
  private readonly consumer: KafkajsBatchConsumer;
  private owned = new Set<number>();
  private syncing: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Commands being started by inserts in progress (they hold concurrency not yet in flight). */
  private reserved = 0;
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(SCHEDULER) private readonly scheduler: InvocationScheduler,
    @Inject(InvocationStore) private readonly store: InvocationStore,
    @Inject(InvocationExecutor) private readonly executor: InvocationExecutor,
    @Inject(InvokerMetrics) private readonly metrics: InvokerMetrics,
  ) {
    this.consumer = new KafkajsBatchConsumer(bus.kafka, {
      groupId: invokerGroup(bus.topics),
      topics: [bus.topics.invocations],
      fromBeginning: true,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // At least the bus partitions (16 by default): kafkajs fetches again only after every
      // batch of a fetch is handled, so with fewer, a fetch's batches are handled in rounds.
      partitionsConsumedConcurrently: 64,
    });
    this.consumer.onRebalance(() => {
      this.syncing = this.syncing
        .then(() => this.syncOwnership())
        .catch((err: unknown) => this.logger.error(`ownership sync failed: ${String(err)}`));
    });
  }

  ownedPartitions(): ReadonlySet<number> {
    return this.owned;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start((batch, ctx) => this.handle(batch, ctx));
    this.sweeper = setInterval(() => void this.sweepSuspended(), SWEEP_MS);
    this.logger.log(`consuming ${this.bus.topics.invocations} as ${this.executor.owner}`);
  }

  async onApplicationShutdown(): Promise<void> {
    // Stop taking commands first; the executor then finishes or hands back what it runs.
    this.stopping = true;
    clearInterval(this.sweeper);
    await this.consumer.stop();
    await this.syncing;
  }

  /**
   * Suspended invocations of the owned partitions that became due without this process being
   * told (a `wake` message lost between a delivery's commit and its send): scheduled now.
   */
  private async sweepSuspended(): Promise<void> {
    if (this.stopping || this.owned.size === 0) return;
    try {
      this.store.outbox.sweep([...this.owned]);
      const due = await this.store.dueSuspended([...this.owned]);
      if (due.length === 0) return;
      this.scheduler.upsert(due.filter((o) => this.owned.has(o.busPartition)));
      this.executor.pump();
    } catch (err) {
      this.logger.warn(`sweeping suspended invocations failed: ${String(err)}`);
    }
  }

  private async syncOwnership(): Promise<void> {
    const now = new Set(this.consumer.assignment().flatMap((a) => a.partitions));
    const added = [...now].filter((p) => !this.owned.has(p));
    const removed = new Set([...this.owned].filter((p) => !now.has(p)));
    this.owned = now;
    if (removed.size > 0) this.scheduler.dropPartitions(removed);
    if (added.length > 0) await this.load(added);
    this.executor.pump();
  }

  /** Loads the open invocations of newly owned partitions, retrying while Postgres is away. */
  private async load(partitions: number[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const still = partitions.filter((p) => this.owned.has(p));
      if (still.length === 0 || this.stopping) return;
      try {
        const open = await this.store.openInPartitions(still);
        this.scheduler.upsert(open.filter((o) => this.owned.has(o.busPartition)));
        this.logger.log(
          `took bus partitions [${still.join(', ')}]: ${open.length} open invocations`,
        );
        return;
      } catch (err) {
        this.logger.warn(
          `loading bus partitions [${still.join(', ')}] failed (attempt ${attempt}), retrying: ${String(err)}`,
        );
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * attempt)));
      }
    }
  }

  private pendingInserts: {
    commands: ArrivedCommand[];
    start?: StartRequest;
    resolve: (open: OpenInvocation[]) => void;
    reject: (err: unknown) => void;
  }[] = [];

  /**
   * The batches of one fetch are handled concurrently: their commands go into one INSERT (one
   * pool connection, one commit) rather than one each, leaving the pool to claims and finishes.
   * Each batch gets back its own open invocations; the ones the insert started run from here.
   */
  private insertTogether(
    commands: ArrivedCommand[],
    start?: StartRequest,
  ): Promise<OpenInvocation[]> {
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pendingInserts.push({ commands, start, resolve, reject });
      if (this.pendingInserts.length === 1) setImmediate(() => void this.flushInserts());
    });
  }

  private async flushInserts(): Promise<void> {
    const items = this.pendingInserts;
    this.pendingInserts = [];
    const starts = items.flatMap((i) => (i.start ? [i.start] : []));
    const start: DirectStart | undefined =
      starts.length === 0
        ? undefined
        : {
            ids: new Set(starts.flatMap((s) => [...s.ids])),
            owner: this.executor.owner,
            leaseMs: this.executor.leaseTtlMs,
            keys: starts.flatMap((s) => s.keys),
          };
    const claimedAt = Date.now();
    const commands = items.flatMap((i) => i.commands);
    const span = traceInsert(commands);
    try {
      const { open, started } = await this.insertOrIsolate(commands, start);
      span?.end();
      this.metrics.claims.inc({ path: 'insert', result: 'claimed' }, started.length);
      this.metrics.claims.inc(
        { path: 'insert', result: 'refused' },
        (start?.ids.size ?? 0) - started.length,
      );
      if (started.length > 0) {
        this.scheduler.started(started.map((s) => s.open));
        await this.executor.run(
          started.map((s) => s.claimed),
          claimedAt,
        );
      }
      const byId = new Map(open.map((o) => [o.id, o]));
      for (const i of items) i.resolve(i.commands.flatMap((c) => byId.get(c.command.id) ?? []));
    } catch (err) {
      if (span?.isRecording()) endWithError(span, `inserting failed: ${String(err)}`);
      for (const i of items) i.reject(err);
    }
  }

  /**
   * One insert for all the commands; if Postgres refuses their data (not a lost connection: that
   * is retried with the whole batch), each command is inserted alone, and one that is refused
   * alone becomes a failed invocation saying why. One bad command never holds back the others.
   */
  private async insertOrIsolate(
    commands: ArrivedCommand[],
    start?: DirectStart,
  ): Promise<Inserted> {
    try {
      return await this.store.insert(commands, start);
    } catch (err) {
      if (!isDataError(err)) throw err;
      this.logger.warn(
        `Postgres refused a merged insert of ${commands.length} commands (${messageOf(err)}); inserting them one by one`,
      );
    }
    const inserted: Inserted = { open: [], started: [] };
    for (const arrived of commands) {
      let open: OpenInvocation[];
      try {
        ({ open } = await this.store.insert([arrived]));
      } catch (err) {
        if (!isDataError(err)) throw err;
        // A text field holding U+0000 is named; any other refusal is given in Postgres' words.
        const named = storableCommand(arrived.command);
        const failure = `the invocation could not be stored (${messageOf(err)}); the record was not delivered`;
        const command = named !== arrived.command ? named : failedCommand(arrived.command, failure);
        this.logger.error(
          new LogLine(
            command.failure ?? failure,
            invocationFields(arrived.command.id, handlerHeaders(arrived.command)),
          ),
        );
        ({ open } = await this.store.insert([{ ...arrived, command }]));
      }
      inserted.open.push(...open);
    }
    return inserted;
  }

  /**
   * The next chunk of `commands` from `from` to insert, and those of it that start as they are
   * inserted, without waiting for a claim: the ones the ordering rule lets start (of an exclusive
   * key only the first, and only if no invocation of that key is open here; the insert checks
   * Postgres as well, under the key's lock), as many as the free concurrency allows. The chunk
   * ends before the first command that could start but finds no room: inserted now it would wait
   * in memory to be claimed (an UPDATE of its row). Commands that cannot start anyway (the next
   * ones of a busy key) do not end it.
   */
  private planChunk(commands: ArrivedCommand[], from: number): Chunk {
    // Batches of several partitions are inserted at once: count what the others are starting.
    let free = this.scheduler.free - this.reserved;
    const ids = new Set<string>();
    const keys: [string, string][] = [];
    /** The head of each key as it will be once this chunk is inserted. */
    const heads = new Map<string, string | undefined>();
    let end = from;
    for (; end < commands.length; end++) {
      const c = commands[end].command;
      if (c.failure !== null) continue;
      const { service, key, serviceTy, handlerTy } = c.target;
      const exclusive = isExclusive(serviceTy, handlerTy);
      let head: string | undefined;
      if (exclusive) {
        const k = keyOf(service, key);
        head = heads.has(k) ? heads.get(k) : this.scheduler.keyHead(service, key);
        if (!heads.has(k)) heads.set(k, head ?? c.id);
      }
      if (!mayStart({ id: c.id, exclusive, status: 'pending', dueAt: 0 }, head, 0)) continue;
      if (free <= 0) break;
      if (exclusive) keys.push([service, key]);
      ids.add(c.id);
      free--;
    }
    return { end, start: ids.size === 0 ? undefined : { ids, keys } };
  }

  /** Until an invocation here finishes (concurrency may have come free), or `deadline`. */
  private async finishOrDeadline(deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.scheduler.nextFinish(),
        new Promise((r) => (timer = setTimeout(r, deadline - Date.now()))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async handle(batch: RecordBatch, ctx: BatchContext): Promise<void> {
    // A batch of a newly assigned partition waits for that partition's open invocations to load.
    await this.syncing;
    while (this.scheduler.active > MAX_SCHEDULED && ctx.isRunning()) {
      await new Promise((r) => setTimeout(r, 100));
      await ctx.heartbeat();
    }
    const commands: ArrivedCommand[] = [];
    const calls: { command: CallCommand; busPartition: number }[] = [];
    const controls: InvocationControl[] = [];
    for (const record of batch.records) {
      try {
        const message = decodeBusRecord(record.value, record.headers);
        if (message.type === 'invoke')
          commands.push({ command: message, busPartition: batch.partition });
        else if (message.type === 'call')
          calls.push({ command: message, busPartition: batch.partition });
        else controls.push(message);
      } catch (err) {
        if (!(err instanceof BusMessageError)) throw err;
        // Not ours to fix and never valid on a re-read: report it and move on.
        this.metrics.badBusMessages.inc();
        this.logger.error(
          `skipping bus record ${batch.partition}/${record.offset}: ${err.message}`,
        );
      }
    }
    const owned = this.owned.has(batch.partition);
    const open: OpenInvocation[] = [];
    let waitUntil = Date.now() + ROOM_WAIT_MS;
    for (let at = 0; at < commands.length;) {
      // The chunk is planned and its starts reserved with no await in between: batches handled
      // at the same time do not count the same free slots.
      const plan: Chunk =
        owned && !this.stopping ? this.planChunk(commands, at) : { end: commands.length };
      const { start } = plan;
      let { end } = plan;
      if (end < commands.length) {
        // Something could start but finds no room: wait for room (for a chunk of at least
        // MIN_ROOM), at most ROOM_WAIT_MS; then the rest goes in, to be claimed later.
        const short = end - at < Math.min(commands.length - at, MIN_ROOM);
        if (short && Date.now() < waitUntil && ctx.isRunning()) {
          await this.finishOrDeadline(waitUntil);
          continue;
        }
        if (short) end = commands.length;
      }
      const chunk = commands.slice(at, end);
      at = end;
      this.reserved += start?.ids.size ?? 0;
      try {
        open.push(...(await this.insertTogether(chunk, start)));
      } finally {
        this.reserved -= start?.ids.size ?? 0;
      }
      if (at < commands.length) {
        this.scheduler.upsert(open.splice(0));
        this.executor.pump();
        await ctx.heartbeat();
        waitUntil = Date.now() + ROOM_WAIT_MS;
      }
    }
    // Calls made by handlers: rare next to records, inserted on their own.
    if (calls.length > 0) open.push(...(await this.store.insertCalls(calls)));
    this.metrics.commandsIngested.inc(commands.length + calls.length);
    if (owned) this.scheduler.upsert(open);
    for (const control of controls)
      await this.executor.control(control.id, batch.partition, control.action);
    this.executor.pump();
  }
}

/**
 * Postgres refused the statement's data, not the connection: SQLSTATE class 22 (data exception:
 * bad encoding, a value out of range) or 54 (a program limit, such as a key too long to index).
 * Sending the same data again fails again.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replaceAll('\u0000', '\uFFFD');
}
