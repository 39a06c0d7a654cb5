import { Inject, Injectable } from '@nestjs/common';
import type { InvocationCommand, InvocationStatus } from '@tributary/shared';
import type { CallCommand, Delivery, WakeAddress } from '@tributary/shared';
import {
  deliverToInbox,
  handlerHeaders,
  isExclusive,
  keyOf,
  mayRunSql,
  returnedRows,
  Shards,
} from '@tributary/shared';
import type { DataSource, EntityManager } from 'typeorm';
import { notInThisShard, ShardOutbox, writeOutbox } from './shard-outbox';

/** An invocation and its bus partition, which names the shard its rows are in. */
export interface InvocationRef {
  id: string;
  busPartition: number;
}

/** What the scheduler keeps of an open invocation: no payload, just what ordering needs. */
export interface OpenInvocation {
  id: string;
  seq: bigint;
  busPartition: number;
  exclusive: boolean;
  service: string;
  handler: string;
  key: string;
  status: InvocationStatus;
  /** Epoch ms when it may run next (backing-off), or when a foreign lease expires; 0 = now. */
  dueAt: number;
}

/** An invocation this invoker claimed: everything needed to call the handler. */
export interface ClaimedInvocation {
  id: string;
  busPartition: number;
  epoch: number;
  service: string;
  handler: string;
  key: string;
  exclusive: boolean;
  serviceTy: string;
  handlerTy: string | null;
  input: Buffer | null;
  headers: Record<string, string>;
  rawHeaders: Record<string, string> | null;
  retryCount: number;
  retryPolicy: Record<string, unknown> | null;
  deadLetterTopic: string | null;
  /** The invocation that called this one and waits for its result (a Restate SDK call). */
  callerId: string | null;
  callerCompletionId: number | null;
  /** `retry_count` when its journal last grew (Restate SDK deployments). */
  journalRetryBase: number;
}

export interface StateChangeSet {
  set: ReadonlyMap<string, Buffer>;
  clear: readonly string[];
  clearAll: boolean;
}

/** The end of one attempt, written only if the claim (its epoch) still holds. */
export interface AttemptResult {
  id: string;
  busPartition: number;
  epoch: number;
  status: 'completed' | 'backing-off' | 'paused' | 'pending' | 'ready' | 'suspended';
  completionResult: 'success' | 'failure' | null;
  output: Buffer | null;
  outputContentType: string | null;
  completionFailure: string | null;
  lastFailure: string | null;
  lastFailureCode: number | null;
  /** Attempts that failed so far (Restate's retry_count). */
  retryCount: number;
  nextRetryAt: Date | null;
  /** Applied with the completion, atomically, for exclusive invocations only. */
  state: { service: string; key: string; changes: StateChangeSet } | null;
  /** Set when the invocation may have a journal (Restate SDK deployments): deleted on completion. */
  journaled?: boolean;
  /** Its result for the caller's inbox, delivered with the completion. */
  notifyCaller?: Delivery;
  /** Set on a workflow run that did not run: the run of its workflow id it records. */
  workflowRunOf?: string;
}

/** A workflow promise's value or failure. */
export type PromiseResult = { value: Uint8Array } | { failure: { code: number; message: string } };

/** One journal entry of Restate's service protocol, as stored. */
export interface JournalEntry {
  type: number;
  flags: number;
  body: Uint8Array;
}

interface OpenRow {
  id: string;
  seq: string;
  bus_partition: number;
  exclusive: boolean;
  target_service: string;
  target_handler: string;
  target_key: string;
  status: InvocationStatus;
  next_retry_at: Date | null;
  lease_expires_at: Date | null;
}

const OPEN_COLUMNS = `id, seq, bus_partition, exclusive, target_service, target_handler, target_key,
  status, next_retry_at, lease_expires_at`;

function toOpen(r: OpenRow): OpenInvocation {
  const due =
    r.status === 'running'
      ? (r.lease_expires_at?.getTime() ?? 0)
      : (r.next_retry_at?.getTime() ?? (r.status === 'suspended' ? Infinity : 0));
  return {
    id: r.id,
    seq: BigInt(r.seq),
    busPartition: r.bus_partition,
    exclusive: r.exclusive,
    service: r.target_service,
    handler: r.target_handler,
    key: r.target_key,
    status: r.status,
    dueAt: due,
  };
}

/** Commands to start as they are inserted (running, claimed by `owner`), and their keys. */
export interface DirectStart {
  ids: ReadonlySet<string>;
  owner: string;
  leaseMs: number;
  /** The exclusive keys among them: locked for the insert, as a claim locks them. */
  keys: [string, string][];
}

/** An invocation started by its insert: as the scheduler knows it, and as the executor runs it. */
export interface Started {
  open: OpenInvocation;
  claimed: ClaimedInvocation;
}

export interface Inserted {
  /** Open and waiting to be claimed. */
  open: OpenInvocation[];
  started: Started[];
}

/** A command as it arrived on the bus, with the partition it arrived on. */
export interface ArrivedCommand {
  command: InvocationCommand;
  busPartition: number;
}

/**
 * All SQL of the invoker, each statement on the shard of its invocations' bus partition
 * (`Shards`, `database.shards`). Every write that ends an attempt is fenced by the epoch the claim
 * returned, so a late write from an invoker that lost its claim changes nothing.
 */
@Injectable()
export class InvocationStore {
  /** Cross-shard notifications (callers' results); inert with one shard. */
  readonly outbox: ShardOutbox;

  constructor(@Inject(Shards) private readonly shards: Shards) {
    this.outbox = new ShardOutbox(shards);
  }

  /**
   * Inserts the commands (idempotent on the invocation id) in one statement and returns every one
   * of them that is still open: the new rows, and old ones not yet completed (a re-read command).
   * The commands in `start` are inserted as running, claimed by this invoker, when a claim would
   * succeed (for an exclusive one: no open invocation of its key), and come back in `started`.
   */
  async insert(arrived: ArrivedCommand[], start?: DirectStart): Promise<Inserted> {
    const parts = await Promise.all(
      this.shards
        .split(arrived, (a) => a.busPartition)
        .map(([db, some]) => this.insertIn(db, some, start)),
    );
    if (parts.length === 1) return parts[0];
    return {
      open: parts.flatMap((p) => p.open),
      started: parts.flatMap((p) => p.started),
    };
  }

  private async insertIn(
    db: DataSource,
    arrived: ArrivedCommand[],
    start?: DirectStart,
  ): Promise<Inserted> {
    if (arrived.length === 0) return { open: [], started: [] };
    const cols = {
      id: [] as string[],
      service: [] as string[],
      handler: [] as string[],
      key: [] as string[],
      serviceTy: [] as string[],
      handlerTy: [] as (string | null)[],
      exclusive: [] as boolean[],
      failure: [] as (string | null)[],
      // The inputs travel as one bytea parameter, cut by (offset, length): an array of bytea
      // would be escaped to hex text element by element in JavaScript.
      inputOffset: [] as number[],
      inputLength: [] as number[],
      headers: [] as string[],
      rawHeaders: [] as (string | null)[],
      subscription: [] as string[],
      topic: [] as string[],
      partition: [] as number[],
      offset: [] as string[],
      timestamp: [] as string[],
      kafkaKey: [] as (Buffer | null)[],
      retryPolicy: [] as (string | null)[],
      busPartition: [] as number[],
      deadLetter: [] as (string | null)[],
      start: [] as boolean[],
    };
    const requests = new Map<
      string,
      { command: ArrivedCommand['command']; headers: Record<string, string> }
    >();
    const inputs: Buffer[] = [];
    let inputBytes = 0;
    for (const { command: c, busPartition } of arrived) {
      cols.id.push(c.id);
      cols.service.push(c.target.service);
      cols.handler.push(c.target.handler);
      cols.key.push(c.target.key);
      cols.serviceTy.push(c.target.serviceTy);
      cols.handlerTy.push(c.target.handlerTy);
      cols.exclusive.push(
        c.failure === null && isExclusive(c.target.serviceTy, c.target.handlerTy),
      );
      cols.failure.push(c.failure);
      cols.inputOffset.push(inputBytes + 1);
      cols.inputLength.push(c.body === null ? -1 : c.body.length);
      if (c.body !== null) {
        inputs.push(c.body);
        inputBytes += c.body.length;
      }
      const headers = handlerHeaders(c);
      cols.headers.push(JSON.stringify(headers));
      cols.rawHeaders.push(
        Object.keys(c.rawHeaders).length > 0 ? JSON.stringify(c.rawHeaders) : null,
      );
      cols.subscription.push(c.subscriptionId);
      cols.topic.push(c.record.topic);
      cols.partition.push(c.record.partition);
      cols.offset.push(c.record.offset);
      cols.timestamp.push(c.record.timestamp);
      cols.kafkaKey.push(c.record.key === null ? null : Buffer.from(c.record.key, 'base64'));
      cols.retryPolicy.push(c.retryPolicy ? JSON.stringify(c.retryPolicy) : null);
      cols.busPartition.push(busPartition);
      cols.deadLetter.push(c.deadLetterTopic);
      const starts = start?.ids.has(c.id) ?? false;
      cols.start.push(starts);
      if (starts) requests.set(c.id, { command: c, headers });
    }
    const sql = `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
           $6::text[], $7::boolean[], $8::text[], $9::int[], $10::int[], $11::json[], $12::json[],
           $13::text[], $14::text[], $15::int[], $16::bigint[], $17::bigint[], $18::bytea[],
           $19::jsonb[], $20::int[], $21::text[], $22::boolean[])
           WITH ORDINALITY
           AS v(id, service, handler, key, service_ty, handler_ty, exclusive, failure, input_offset,
                input_length, headers, raw_headers, subscription, topic, partition, kafka_offset,
                kafka_timestamp, kafka_key, retry_policy, bus_partition, dead_letter, start, ord)),
       w AS (
         SELECT v.*, CASE
           WHEN v.failure IS NOT NULL THEN 'completed'
           -- Started by its insert: the rule a claim checks, under the same per-key lock.
           WHEN v.start AND ${INSERT_MAY_RUN} THEN 'running'
           WHEN v.exclusive THEN 'pending'
           ELSE 'ready' END AS status
         FROM v),
       ins AS (
         INSERT INTO invocations (id, target_service, target_handler, target_key, service_ty,
           handler_ty, exclusive, status, completion_result, completion_failure, last_failure,
           invoked_by, subscription_id, kafka_topic, kafka_partition, kafka_offset, kafka_timestamp,
           kafka_key, retry_policy, bus_partition, dead_letter_topic, inboxed_at, completed_at,
           epoch, lease_owner, lease_expires_at, running_at)
         SELECT w.id, w.service, w.handler, w.key, w.service_ty, w.handler_ty, w.exclusive, w.status,
           CASE WHEN w.failure IS NOT NULL THEN 'failure' END, w.failure, w.failure,
           'subscription', w.subscription, w.topic, w.partition, w.kafka_offset, w.kafka_timestamp,
           w.kafka_key, w.retry_policy, w.bus_partition, w.dead_letter,
           CASE WHEN w.exclusive THEN now() END, CASE WHEN w.failure IS NOT NULL THEN now() END,
           CASE WHEN w.status = 'running' THEN 1 ELSE 0 END,
           CASE WHEN w.status = 'running' THEN $24 END,
           CASE WHEN w.status = 'running' THEN now() + $25 * interval '1 millisecond' END,
           CASE WHEN w.status = 'running' THEN now() END
         FROM w
         -- seq follows arrival order: it is the per-key execution order.
         ORDER BY w.ord
         ON CONFLICT (id) DO NOTHING
         RETURNING ${OPEN_COLUMNS}, epoch),
       payloads AS (
         INSERT INTO invocation_payloads (id, input, headers, raw_headers)
         SELECT v.id,
           CASE WHEN v.input_length >= 0 THEN substring($23::bytea FROM v.input_offset FOR v.input_length) END,
           v.headers, v.raw_headers
         FROM v JOIN ins ON ins.id = v.id
         ON CONFLICT (id) DO NOTHING)
       SELECT * FROM ins`;
    const params = [
      cols.id,
      cols.service,
      cols.handler,
      cols.key,
      cols.serviceTy,
      cols.handlerTy,
      cols.exclusive,
      cols.failure,
      cols.inputOffset,
      cols.inputLength,
      cols.headers,
      cols.rawHeaders,
      cols.subscription,
      cols.topic,
      cols.partition,
      cols.offset,
      cols.timestamp,
      cols.kafkaKey,
      cols.retryPolicy,
      cols.busPartition,
      cols.deadLetter,
      cols.start,
      Buffer.concat(inputs, inputBytes),
      start?.owner ?? null,
      start?.leaseMs ?? 0,
    ];
    const inserted: (OpenRow & { epoch: number })[] =
      requests.size === 0
        ? await db.query(sql, params)
        : await db.transaction(async (tx) => {
            await lockKeys(tx, start!.keys);
            return tx.query(sql, params);
          });
    const open: OpenInvocation[] = [];
    const started: Started[] = [];
    for (const r of inserted) {
      if (r.status === 'completed') continue;
      const request = requests.get(r.id);
      if (r.status !== 'running' || !request) {
        open.push(toOpen(r));
        continue;
      }
      const c = request.command;
      started.push({
        open: toOpen(r),
        claimed: {
          id: c.id,
          busPartition: r.bus_partition,
          epoch: r.epoch,
          service: c.target.service,
          handler: c.target.handler,
          key: c.target.key,
          exclusive: r.exclusive,
          serviceTy: c.target.serviceTy,
          input: c.body,
          headers: request.headers,
          rawHeaders: Object.keys(c.rawHeaders).length > 0 ? c.rawHeaders : null,
          retryCount: 0,
          retryPolicy: c.retryPolicy ?? null,
          deadLetterTopic: c.deadLetterTopic,
          handlerTy: c.target.handlerTy,
          callerId: null,
          callerCompletionId: null,
          journalRetryBase: 0,
        },
      });
    }
    if (inserted.length < arrived.length) {
      // Some commands were read before (a crash or rebalance): schedule those still open.
      const seen = new Set(inserted.map((r) => r.id));
      const again = cols.id.filter((id) => !seen.has(id));
      open.push(...(await openIn(db, again)));
    }
    return { open, started };
  }

  /** The open invocations among `refs`. */
  async open(refs: InvocationRef[]): Promise<OpenInvocation[]> {
    return this.perShard(refs, (db, some) =>
      openIn(
        db,
        some.map((r) => r.id),
      ),
    );
  }

  /** Every open invocation of the given bus partitions, in arrival order within a shard. */
  async openInPartitions(partitions: number[]): Promise<OpenInvocation[]> {
    return this.perPartitions(partitions, async (db, some) => {
      const rows: OpenRow[] = await db.query(
        `SELECT ${OPEN_COLUMNS} FROM invocations
          WHERE bus_partition = ANY($1) AND status <> 'completed' ORDER BY seq`,
        [some],
      );
      return rows.map(toOpen);
    });
  }

  /** The journal of an invocation on a Restate SDK deployment, in order (empty when none). */
  async journal(inv: InvocationRef): Promise<JournalEntry[]> {
    const rows: { type: number; flags: number; body: Buffer }[] = await this.db(inv).query(
      `SELECT type, flags, body FROM invocation_journal WHERE id = $1 ORDER BY idx`,
      [inv.id],
    );
    return rows.map((r) => ({ type: r.type, flags: r.flags, body: r.body }));
  }

  /** What arrived in an invocation's inbox (call results, signals, promise values). */
  async inbox(inv: InvocationRef): Promise<{ dedup: string; message: JournalEntry }[]> {
    const rows: { dedup: string; type: number; flags: number; body: Buffer }[] = await this.db(
      inv,
    ).query(
      `SELECT dedup, type, flags, body FROM invocation_inbox WHERE id = $1 ORDER BY created_at, dedup`,
      [inv.id],
    );
    return rows.map((r) => ({
      dedup: r.dedup,
      message: { type: r.type, flags: r.flags, body: r.body },
    }));
  }

  /**
   * Appends entries to an invocation's journal from position `from`, and deletes the inbox
   * entries moved into it (`consumed`), only while the claim of `epoch` holds; false when it no
   * longer does (nothing written). Written entries are never rewritten: a second writer of the
   * same positions changes nothing.
   */
  async appendJournal(
    inv: InvocationRef,
    epoch: number,
    from: number,
    entries: JournalEntry[],
    consumed: string[] = [],
  ): Promise<boolean> {
    if (entries.length === 0 && consumed.length === 0) return true;
    const rows = returnedRows<{ held: boolean }>(
      await this.db(inv).query(
        // FOR SHARE waits for a claim being committed, then sees its epoch: a writer whose
        // claim was just taken over writes nothing, even in the middle of the takeover.
        `WITH held AS (
           SELECT 1 FROM invocations WHERE id = $1 AND epoch = $2 AND status = 'running' FOR SHARE),
         ins AS (
           INSERT INTO invocation_journal (id, idx, type, flags, body)
           SELECT $1, $3 + u.i - 1, u.type, u.flags, u.body
             FROM unnest($4::int[], $5::int[], $6::bytea[]) WITH ORDINALITY AS u(type, flags, body, i)
            WHERE EXISTS (SELECT 1 FROM held)
           ON CONFLICT (id, idx) DO NOTHING),
         base AS (
           UPDATE invocations SET journal_retry_base = retry_count
            WHERE id = $1 AND cardinality($4::int[]) > 0 AND EXISTS (SELECT 1 FROM held)),
         del AS (
           DELETE FROM invocation_inbox
            WHERE id = $1 AND dedup = ANY($7) AND EXISTS (SELECT 1 FROM held))
         SELECT EXISTS (SELECT 1 FROM held) AS held`,
        [
          inv.id,
          epoch,
          from,
          entries.map((e) => e.type),
          entries.map((e) => e.flags),
          entries.map((e) => Buffer.from(e.body)),
          consumed,
        ],
      ),
    );
    return rows[0]?.held ?? false;
  }

  /**
   * Puts notifications in other invocations' inboxes, waking those suspended. The receivers may
   * be in any shard: each shard takes those of its own (a receiver is in exactly one).
   */
  async deliver(deliveries: Delivery[]): Promise<WakeAddress[]> {
    if (deliveries.length === 0) return [];
    const woken = await this.shards.each((db) =>
      db.transaction((tx) => deliverToInbox(tx, deliveries)),
    );
    return woken.flat();
  }

  /**
   * Suspended invocations of these bus partitions that are due (a timer fired, or something
   * arrived whose `wake` message was lost): what a periodic sweep hands to the scheduler.
   */
  async dueSuspended(partitions: number[]): Promise<OpenInvocation[]> {
    return this.perPartitions(partitions, async (db, some) => {
      const rows: OpenRow[] = await db.query(
        `SELECT ${OPEN_COLUMNS} FROM invocations
          WHERE status = 'suspended' AND bus_partition = ANY($1) AND next_retry_at <= now()
          ORDER BY seq LIMIT 1000`,
        [some],
      );
      return rows.map(toOpen);
    });
  }

  /**
   * A workflow promise operation, under the promise's lock: `complete` stores it (once: a
   * replay of the same command finds its own completion) and delivers it to the waiters; `get`
   * answers now or registers the caller as a waiter; `peek` answers now. Returns the answer's
   * fields (undefined = wait) and the invocations to wake.
   */
  async promise(
    workflow: { service: string; key: string; invocationId: string; busPartition: number },
    op: {
      kind: 'get' | 'peek' | 'complete';
      name: string;
      completionId: number;
      result?: PromiseResult;
    },
    notification: (
      kind: 'get' | 'peek',
      completionId: number,
      result: PromiseResult | undefined,
    ) => JournalEntry,
  ): Promise<{
    answer?: PromiseResult | 'waiting' | 'completed' | 'already';
    wake: WakeAddress[];
  }> {
    const { service, key, invocationId } = workflow;
    return this.shards.of(workflow.busPartition).transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 1))`, [
        `${service}/${key}/${op.name}`,
      ]);
      const [row]: {
        value: Buffer | null;
        failure_code: number | null;
        failure_message: string | null;
        completed_by: string;
      }[] = await tx.query(
        `SELECT value, failure_code, failure_message, completed_by FROM workflow_promises
          WHERE service_name = $1 AND workflow_key = $2 AND name = $3`,
        [service, key, op.name],
      );
      const stored: PromiseResult | undefined = row
        ? row.failure_code !== null
          ? { failure: { code: row.failure_code, message: row.failure_message ?? '' } }
          : { value: row.value ?? Buffer.alloc(0) }
        : undefined;
      if (op.kind === 'peek') return { answer: stored ?? 'waiting', wake: [] };
      if (op.kind === 'get') {
        if (stored) return { answer: stored, wake: [] };
        await tx.query(
          `INSERT INTO workflow_promise_waiters
             (service_name, workflow_key, name, invocation_id, completion_id, kind)
           VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT DO NOTHING`,
          [service, key, op.name, invocationId, op.completionId],
        );
        return { answer: 'waiting', wake: [] };
      }
      const by = `${invocationId}:${op.completionId}`;
      if (row) return { answer: row.completed_by === by ? 'completed' : 'already', wake: [] };
      const result = op.result!;
      await tx.query(
        `INSERT INTO workflow_promises
           (service_name, workflow_key, name, value, failure_code, failure_message, completed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          service,
          key,
          op.name,
          'value' in result ? Buffer.from(result.value) : null,
          'failure' in result ? result.failure.code : null,
          'failure' in result ? result.failure.message : null,
          by,
        ],
      );
      const waiters = returnedRows<{ invocation_id: string; completion_id: number }>(
        await tx.query(
          `DELETE FROM workflow_promise_waiters
            WHERE service_name = $1 AND workflow_key = $2 AND name = $3
            RETURNING invocation_id, completion_id`,
          [service, key, op.name],
        ),
      );
      const wake = await deliverToInbox(
        tx,
        waiters.map((w) => ({
          id: w.invocation_id,
          dedup: `c:${w.completion_id}`,
          ...notification('get', w.completion_id, result),
        })),
      );
      return { answer: 'completed', wake };
    });
  }

  /**
   * Delayed sends whose time has come: each becomes an invocation like any other, an exclusive
   * one at the end of its key's queue (a new `seq`), as if it had just arrived.
   */
  async promoteScheduled(refs: InvocationRef[]): Promise<OpenInvocation[]> {
    return this.perShard(refs, (db, some) =>
      promoteIn(
        db,
        some.map((r) => r.id),
      ),
    );
  }

  /** The first completed `run` of a workflow id other than `id`, if any: run-once per id. */
  async workflowRun(inv: ClaimedInvocation): Promise<WorkflowRun | undefined> {
    const [row]: {
      id: string;
      completion_result: 'success' | 'failure';
      output: Buffer | null;
      output_content_type: string | null;
      completion_failure: string | null;
      last_failure_code: number | null;
    }[] = await this.db(inv).query(
      `SELECT id, completion_result, output, output_content_type, completion_failure,
              last_failure_code
         FROM invocations
        WHERE target_service = $1 AND md5(target_key) = md5($2) AND target_key = $2
          AND target_handler = $3 AND id <> $4
          AND status = 'completed' AND workflow_run_of IS NULL
        ORDER BY seq LIMIT 1`,
      [inv.service, inv.key, inv.handler, inv.id],
    );
    return row
      ? {
          id: row.id,
          result: row.completion_result,
          output: row.output,
          contentType: row.output_content_type,
          failure: row.completion_failure,
          code: row.last_failure_code,
        }
      : undefined;
  }

  /** Inserts the calls and sends of Restate SDK handlers (idempotent on the id); returns the open ones. */
  async insertCalls(
    calls: { command: CallCommand; busPartition: number }[],
  ): Promise<OpenInvocation[]> {
    return this.perShard(calls, (db, some) => insertCallsIn(db, some));
  }

  /** Paused invocations of the given bus partitions (a partial index keeps this cheap). */
  async countPaused(partitions: number[]): Promise<number> {
    const counts = await this.perPartitions(partitions, async (db, some) => {
      const [row]: { n: number }[] = await db.query(
        `SELECT count(*)::int AS n FROM invocations
          WHERE status = 'paused' AND bus_partition = ANY($1)`,
        [some],
      );
      return [row.n];
    });
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Open exclusive invocations of one key, in order (`inv` is one of the key's). */
  async openForKey(inv: OpenInvocation): Promise<OpenInvocation[]> {
    const rows: OpenRow[] = await this.db(inv).query(
      `SELECT ${OPEN_COLUMNS} FROM invocations
        WHERE exclusive AND target_service = $1 AND target_key = $2 AND status <> 'completed'
        ORDER BY seq`,
      [inv.service, inv.key],
    );
    return rows.map(toOpen);
  }

  /**
   * Claims invocations for execution, one transaction per shard (see `claimIn`); per-key
   * advisory locks serialise concurrent claims from several invokers.
   */
  async claim(
    invs: OpenInvocation[],
    owner: string,
    leaseMs: number,
  ): Promise<ClaimedInvocation[]> {
    return this.perShard(invs, (db, some) =>
      db.transaction(async (tx) => {
        await lockKeys(
          tx,
          some.filter((i) => i.exclusive).map((i): [string, string] => [i.service, i.key]),
        );
        return claimIn(
          tx,
          some.map((i) => i.id),
          owner,
          leaseMs,
        );
      }),
    );
  }

  /** Current state of each key (of virtual objects and workflows). */
  async loadState(
    keys: { service: string; key: string; busPartition: number }[],
  ): Promise<Map<string, Map<string, Buffer>>> {
    const result = new Map<string, Map<string, Buffer>>();
    await this.perShard(keys, async (db, some) => {
      const rows: {
        service_name: string;
        object_key: string;
        state_key: string;
        value: Buffer;
      }[] = await db.query(
        `SELECT s.service_name, s.object_key, s.state_key, s.value
           FROM object_state s
           JOIN unnest($1::text[], $2::text[]) AS u(service, key)
             ON s.service_name = u.service AND s.object_key = u.key`,
        [some.map((p) => p.service), some.map((p) => p.key)],
      );
      for (const r of rows) {
        const k = keyOf(r.service_name, r.object_key);
        if (!result.has(k)) result.set(k, new Map());
        result.get(k)!.set(r.state_key, r.value);
      }
      return [];
    });
    return result;
  }

  /** Extends the leases of invocations still running here. */
  async renewLeases(owner: string, refs: InvocationRef[], leaseMs: number): Promise<void> {
    await this.perShard(refs, async (db, some) => {
      await db.query(
        `UPDATE invocations SET lease_expires_at = now() + $3 * interval '1 millisecond'
          WHERE id = ANY($2) AND lease_owner = $1 AND status = 'running'`,
        [owner, some.map((r) => r.id), leaseMs],
      );
      return [];
    });
  }

  /**
   * Records the end of attempts, with their state changes: one transaction per shard, each with
   * its results and the successors of those (a successor is of the same key, so of the same
   * shard). Returns the ids whose claim still held; for the others nothing was written (another
   * invoker owns them now). `next` claims, in the same transaction, the invocations that follow
   * finished exclusive ones in their keys' queues: the key passes from one invocation to the next
   * without a round trip, and with the state just written, which nobody else can have changed in
   * between. A result for a caller in another shard goes through the outbox.
   */
  async finish(results: AttemptResult[], next?: SuccessorClaims): Promise<Finished> {
    const groups = this.shards.split(results, (r) => r.busPartition);
    if (groups.length <= 1) {
      const db = groups[0]?.[0] ?? this.shards.all[0];
      const done = await finishIn(db, results, next, this.shards.count > 1);
      if (done.outboxed) this.outbox.kick(db);
      return done;
    }
    const parts = await Promise.all(
      groups.map(async ([db, some]) => {
        const ids = new Set(some.map((r) => r.id));
        const mine = next && pickSuccessors(next, ids);
        const done = await finishIn(db, some, mine, true);
        if (done.outboxed) this.outbox.kick(db);
        return done;
      }),
    );
    return {
      applied: new Set(parts.flatMap((p) => [...p.applied])),
      claimed: parts.flatMap((p) => p.claimed),
      woken: new Set(parts.flatMap((p) => [...p.woken])),
      wake: parts.flatMap((p) => p.wake),
    };
  }

  private db(inv: { busPartition: number }): DataSource {
    return this.shards.of(inv.busPartition);
  }

  /** `fn` on each shard's share of `items`, at once; the results concatenated. */
  private async perShard<T extends { busPartition: number }, R>(
    items: T[],
    fn: (db: DataSource, some: T[]) => Promise<R[]>,
  ): Promise<R[]> {
    const groups = this.shards.split(items, (i) => i.busPartition);
    if (groups.length === 0) return [];
    if (groups.length === 1) return fn(groups[0][0], groups[0][1]);
    return (await Promise.all(groups.map(([db, some]) => fn(db, some)))).flat();
  }

  private perPartitions<R>(
    partitions: number[],
    fn: (db: DataSource, some: number[]) => Promise<R[]>,
  ): Promise<R[]> {
    return this.perShard(
      partitions.map((p) => ({ busPartition: p })),
      (db, some) =>
        fn(
          db,
          some.map((s) => s.busPartition),
        ),
    );
  }
}

/** What `workflowRun` finds: the run that already completed for a workflow id. */
export interface WorkflowRun {
  id: string;
  result: 'success' | 'failure';
  output: Buffer | null;
  contentType: string | null;
  failure: string | null;
  code: number | null;
}

async function openIn(db: DataSource, ids: string[]): Promise<OpenInvocation[]> {
  if (ids.length === 0) return [];
  const rows: OpenRow[] = await db.query(
    `SELECT ${OPEN_COLUMNS} FROM invocations WHERE id = ANY($1) AND status <> 'completed'`,
    [ids],
  );
  return rows.map(toOpen);
}

/** `next` restricted to the successors of the finished `ids`. */
function pickSuccessors(next: SuccessorClaims, ids: Set<string>): SuccessorClaims | undefined {
  const after: string[] = [];
  const succ: string[] = [];
  next.after.forEach((a, i) => {
    if (!ids.has(a)) return;
    after.push(a);
    succ.push(next.ids[i]);
  });
  if (after.length === 0 && next.keys.length === 0) return undefined;
  return { ...next, after, ids: succ };
}

async function promoteIn(db: DataSource, ids: string[]): Promise<OpenInvocation[]> {
  if (ids.length === 0) return [];
  const rows = returnedRows<OpenRow>(
    await db.query(
      `WITH due AS (
           SELECT id, service_ty <> 'SERVICE'
                  AND (handler_ty IS NULL OR handler_ty IN ('EXCLUSIVE', 'WORKFLOW')) AS excl
             FROM invocations
            WHERE id = ANY($1) AND status = 'scheduled' AND next_retry_at <= now()
            ORDER BY id)
         UPDATE invocations i
            SET exclusive = due.excl,
                seq = CASE WHEN due.excl THEN nextval(pg_get_serial_sequence('invocations', 'seq'))
                           ELSE i.seq END,
                status = CASE WHEN due.excl THEN 'pending' ELSE 'ready' END,
                inboxed_at = CASE WHEN due.excl THEN now() END,
                next_retry_at = NULL, modified_at = now()
           FROM due WHERE i.id = due.id
         RETURNING ${OPEN_COLUMNS.split(',')
           .map((c) => `i.${c.trim()}`)
           .join(', ')}`,
      [ids],
    ),
  );
  return rows.map(toOpen);
}

async function insertCallsIn(
  db: DataSource,
  calls: { command: CallCommand; busPartition: number }[],
): Promise<OpenInvocation[]> {
  if (calls.length === 0) return [];
  const rows: OpenRow[] = await db.query(
    `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
           $6::text[], $7::boolean[], $8::text[], $9::int[], $10::bigint[], $11::int[],
           $12::bytea[], $13::json[]) WITH ORDINALITY
           AS v(id, service, handler, key, service_ty, handler_ty, exclusive, caller_id,
                caller_completion_id, invoke_at, bus_partition, input, headers, ord)),
       ins AS (
         INSERT INTO invocations (id, target_service, target_handler, target_key, service_ty,
           handler_ty, exclusive, status, invoked_by, caller_id, caller_completion_id,
           next_retry_at, scheduled_at, inboxed_at, bus_partition)
         SELECT v.id, v.service, v.handler, v.key, v.service_ty, v.handler_ty, v.exclusive,
           CASE WHEN v.invoke_at IS NOT NULL THEN 'scheduled'
                WHEN v.exclusive THEN 'pending' ELSE 'ready' END,
           'service', v.caller_id, v.caller_completion_id,
           CASE WHEN v.invoke_at IS NOT NULL THEN to_timestamp(v.invoke_at / 1000.0) END,
           CASE WHEN v.invoke_at IS NOT NULL THEN now() END,
           CASE WHEN v.exclusive THEN now() END, v.bus_partition
         FROM v ORDER BY v.ord
         ON CONFLICT (id) DO NOTHING
         RETURNING ${OPEN_COLUMNS}),
       payloads AS (
         INSERT INTO invocation_payloads (id, input, headers)
         SELECT v.id, v.input, v.headers FROM v JOIN ins ON ins.id = v.id
         ON CONFLICT (id) DO NOTHING)
       SELECT * FROM ins`,
    [
      calls.map((c) => c.command.id),
      calls.map((c) => c.command.target.service),
      calls.map((c) => c.command.target.handler),
      calls.map((c) => c.command.target.key),
      calls.map((c) => c.command.target.serviceTy),
      calls.map((c) => c.command.target.handlerTy),
      // A delayed send joins its key's queue only when due (`promoteScheduled`): until then it
      // holds nothing, as on Restate, where a delayed send is enqueued when it fires.
      calls.map(
        (c) =>
          c.command.invokeAt === null &&
          isExclusive(c.command.target.serviceTy, c.command.target.handlerTy),
      ),
      calls.map((c) => c.command.callerId),
      calls.map((c) => c.command.callerCompletionId),
      calls.map((c) => c.command.invokeAt),
      calls.map((c) => c.busPartition),
      calls.map((c) => c.command.body),
      calls.map((c) => JSON.stringify(c.command.headers)),
    ],
  );
  const open = rows.map(toOpen);
  if (open.length < calls.length) {
    const seen = new Set(open.map((o) => o.id));
    open.push(
      ...(await openIn(
        db,
        calls.map((c) => c.command.id).filter((id) => !seen.has(id)),
      )),
    );
  }
  return open;
}

/** `InvocationStore.finish` in one shard; `sharded`: results for callers elsewhere go to the outbox. */
async function finishIn(
  db: DataSource,
  results: AttemptResult[],
  next: SuccessorClaims | undefined,
  sharded: boolean,
): Promise<Finished & { outboxed: boolean }> {
  if (results.length === 0)
    return { applied: new Set(), claimed: [], woken: new Set(), wake: [], outboxed: false };
  // State sets go with the ends in one statement; a batch that clears state (a clear must come
  // before the sets) writes its state in statements of its own, after.
  const setsOnly = results.every(
    (r) => r.state === null || (!r.state.changes.clearAll && r.state.changes.clear.length === 0),
  );
  const sets = setsOnly ? stateSets(results) : [];
  const keys = next?.keys ?? [];
  return db.transaction(async (tx) => {
    // One statement: the keys of the successors locked first (a one-time condition of the update,
    // so before any row: as in `claim`, so the two never wait on each other in turn), the ends
    // written where the claim still holds, and the state set by those.
    const rows = returnedRows<{ id: string; running_at: Date | null }>(
      await tx.query(
        `WITH locks AS MATERIALIZED (${keyLocksSql('$13', '$14')}),
         ended AS (
         UPDATE invocations i
            SET status = v.status, completion_result = v.result, output = v.output,
                output_content_type = v.ct, completion_failure = v.failure,
                last_failure = COALESCE(v.last_failure, i.last_failure),
                last_failure_code = COALESCE(v.last_failure_code, i.last_failure_code),
                retry_count = v.retry_count, next_retry_at = v.next_retry_at,
                completed_at = CASE WHEN v.status = 'completed' THEN now() END,
                workflow_run_of = v.run_of,
                lease_owner = NULL, lease_expires_at = NULL, modified_at = now()
           FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bytea[], $6::text[],
                       $7::text[], $8::text[], $9::int[], $10::int[], $11::timestamptz[],
                       $12::text[])
             AS v(id, epoch, status, result, output, ct, failure, last_failure, last_failure_code,
                  retry_count, next_retry_at, run_of)
          WHERE i.id = v.id AND i.epoch = v.epoch AND i.status = 'running'
            AND (SELECT count(*) FROM locks) >= 0
          RETURNING i.id, i.running_at),
         state AS (
         INSERT INTO object_state (service_name, object_key, state_key, value)
         SELECT x.service, x.key, x.name, x.value
           FROM unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::bytea[])
             AS x(id, service, key, name, value)
          WHERE x.id IN (SELECT id FROM ended)
         ON CONFLICT (service_name, object_key, state_key) DO UPDATE SET value = EXCLUDED.value)
         SELECT id, running_at FROM ended`,
        [
          results.map((r) => r.id),
          results.map((r) => r.epoch),
          results.map((r) => r.status),
          results.map((r) => r.completionResult),
          results.map((r) => r.output),
          results.map((r) => r.outputContentType),
          results.map((r) => r.completionFailure),
          results.map((r) => r.lastFailure),
          results.map((r) => r.lastFailureCode),
          results.map((r) => r.retryCount),
          results.map((r) => r.nextRetryAt),
          results.map((r) => r.workflowRunOf ?? null),
          keys.map((k) => k[0]),
          keys.map((k) => k[1]),
          sets.map((x) => x.id),
          sets.map((x) => x.service),
          sets.map((x) => x.key),
          sets.map((x) => x.name),
          sets.map((x) => x.value),
        ],
      ),
    );
    const applied = new Set(rows.map((r) => r.id));
    const done = results.filter((r) => applied.has(r.id));
    // Each failed attempt, for the invocation's timeline; nothing is written on success.
    const failed = done.filter((r) => r.lastFailure !== null);
    if (failed.length > 0) {
      const startedAt = new Map(rows.map((r) => [r.id, r.running_at]));
      await tx.query(
        `INSERT INTO invocation_attempts (id, epoch, started_at, code, failure)
           SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::text[])
           ON CONFLICT DO NOTHING`,
        [
          failed.map((r) => r.id),
          failed.map((r) => r.epoch),
          failed.map((r) => startedAt.get(r.id) ?? null),
          failed.map((r) => r.lastFailureCode),
          failed.map((r) => r.lastFailure),
        ],
      );
    }
    // A completed invocation's journal has served its purpose.
    const journalsDone = done
      .filter((r) => r.journaled && r.status === 'completed')
      .map((r) => r.id);
    if (journalsDone.length > 0) {
      await tx.query(`DELETE FROM invocation_journal WHERE id = ANY($1)`, [journalsDone]);
      await tx.query(`DELETE FROM invocation_inbox WHERE id = ANY($1)`, [journalsDone]);
      await tx.query(`DELETE FROM workflow_promise_waiters WHERE invocation_id = ANY($1)`, [
        journalsDone,
      ]);
      if (sharded)
        await tx.query(`DELETE FROM invocation_deliveries WHERE id = ANY($1)`, [journalsDone]);
    }
    // What arrived while it ran wakes it at once (see deliverToInbox for the race it closes).
    const suspended = done.filter((r) => r.status === 'suspended').map((r) => r.id);
    const woken = new Set<string>();
    if (suspended.length > 0) {
      const rows = returnedRows<{ id: string }>(
        await tx.query(
          `UPDATE invocations i SET next_retry_at = now()
              WHERE i.id = ANY($1) AND i.status = 'suspended'
                AND EXISTS (SELECT 1 FROM invocation_inbox b WHERE b.id = i.id)
              RETURNING i.id`,
          [suspended],
        ),
      );
      for (const r of rows) woken.add(r.id);
    }
    // A callee's result goes to its caller with its completion; to a caller in another shard,
    // through this shard's outbox (written here, delivered there once this commits).
    let toCallers = done.flatMap((r) =>
      r.status === 'completed' && r.notifyCaller ? [r.notifyCaller] : [],
    );
    let outboxed = false;
    if (sharded && toCallers.length > 0) {
      const elsewhere = await notInThisShard(tx, toCallers);
      if (elsewhere.size > 0) {
        await writeOutbox(
          tx,
          toCallers.filter((d) => elsewhere.has(d.id)),
        );
        toCallers = toCallers.filter((d) => !elsewhere.has(d.id));
        outboxed = true;
      }
    }
    const wake = await deliverToInbox(tx, toCallers);
    if (!setsOnly) {
      await applyStateChanges(
        tx,
        results.filter((r) => applied.has(r.id)),
      );
    }
    // Only after an end that was recorded: otherwise the state handed over is not the key's.
    // A statement of its own: its snapshot is taken after the key locks above, which the ordering
    // rule needs (the statement that takes them saw the key's rows as of before).
    const ids = next ? next.ids.filter((_, i) => applied.has(next.after[i])) : [];
    const claimed = ids.length > 0 ? await claimIn(tx, ids, next!.owner, next!.leaseMs) : [];
    return { applied, claimed, woken, wake, outboxed };
  });
}

/** What `finish` recorded. */
export interface Finished {
  /** The results whose claim still held: written. */
  applied: Set<string>;
  /** Successors claimed in the same transaction. */
  claimed: ClaimedInvocation[];
  /** Suspended ones that found something in their inbox: due now. */
  woken: Set<string>;
  /** Other invocations woken by what was delivered (callers): send each a `wake`. */
  wake: WakeAddress[];
}

/** Invocations to claim after the ones whose end is recorded, and their keys (locked first). */
export interface SuccessorClaims {
  /** `ids[i]` is claimed only if the end of `after[i]` was recorded. */
  after: string[];
  ids: string[];
  owner: string;
  leaseMs: number;
  keys: [string, string][];
}

/** Per-key advisory locks, in one order everywhere, held until the transaction ends. */
async function lockKeys(tx: EntityManager, keys: [string, string][]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(keyLocksSql('$1', '$2'), [keys.map((k) => k[0]), keys.map((k) => k[1])]);
}

/** The query that takes the per-key locks of the keys in two text arrays (services, keys). */
function keyLocksSql(services: string, keys: string): string {
  return `SELECT pg_advisory_xact_lock(k) FROM (
       SELECT DISTINCT hashtextextended(s || '/' || k, 0) AS k
         FROM unnest(${services}::text[], ${keys}::text[]) AS u(s, k)) locks
     ORDER BY k`;
}

/** The ordering rule for a row being inserted (`v`, no seq yet) and for a row claimed (`i`). */
const INSERT_MAY_RUN = mayRunSql({
  exclusive: 'v.exclusive',
  service: 'v.service',
  key: 'v.key',
  id: 'v.id',
  seq: null,
});
const CLAIM_MAY_RUN = mayRunSql({
  exclusive: 'i.exclusive',
  service: 'i.target_service',
  key: 'i.target_key',
  id: 'i.id',
  seq: 'i.seq',
});

/**
 * Claims the given invocations that may run now by the ordering rule (`mayRunSql`); the caller
 * holds the keys' advisory locks, so two exclusive executions of one key never overlap. A claim
 * after a finished invocation (handover) goes through here too.
 */
async function claimIn(
  tx: EntityManager,
  ids: string[],
  owner: string,
  leaseMs: number,
): Promise<ClaimedInvocation[]> {
  const rows: Record<string, unknown>[] = await tx.query(
    `WITH c AS (
       UPDATE invocations i
          SET status = 'running', epoch = i.epoch + 1, lease_owner = $2,
              lease_expires_at = now() + $3 * interval '1 millisecond',
              running_at = now(), modified_at = now()
        WHERE i.id = ANY($1)
          AND (i.status IN ('pending', 'ready', 'scheduled', 'backing-off')
               OR (i.status = 'running' AND i.lease_expires_at < now())
               -- Suspended: due once its timer fires or something arrives for it.
               OR (i.status = 'suspended' AND i.next_retry_at IS NOT NULL))
          AND (i.next_retry_at IS NULL OR i.next_retry_at <= now() OR i.status = 'running')
          AND ${CLAIM_MAY_RUN}
       RETURNING i.id, i.bus_partition, i.epoch, i.target_service, i.target_handler, i.target_key, i.exclusive,
                 i.service_ty, i.handler_ty, i.retry_count, i.retry_policy, i.dead_letter_topic,
                 i.caller_id, i.caller_completion_id, i.journal_retry_base)
     SELECT c.*, p.input, p.headers, p.raw_headers
       FROM c LEFT JOIN invocation_payloads p ON p.id = c.id`,
    [ids, owner, leaseMs],
  );
  return rows.map((r) => ({
    id: r.id as string,
    busPartition: r.bus_partition as number,
    epoch: r.epoch as number,
    service: r.target_service as string,
    handler: r.target_handler as string,
    key: r.target_key as string,
    exclusive: r.exclusive as boolean,
    serviceTy: r.service_ty as string,
    handlerTy: r.handler_ty as string | null,
    input: r.input as Buffer | null,
    headers: (r.headers ?? {}) as Record<string, string>,
    rawHeaders: r.raw_headers as Record<string, string> | null,
    retryCount: r.retry_count as number,
    retryPolicy: r.retry_policy as Record<string, unknown> | null,
    deadLetterTopic: r.dead_letter_topic as string | null,
    callerId: r.caller_id as string | null,
    callerCompletionId: r.caller_completion_id as number | null,
    journalRetryBase: r.journal_retry_base as number,
  }));
}

/** Each state key a batch sets, one row per key, with the id of the end that sets it. */
function stateSets(
  ends: AttemptResult[],
): { id: string; service: string; key: string; name: string; value: Buffer }[] {
  return ends.flatMap(({ id, state }) =>
    state === null
      ? []
      : [...state.changes.set].map(([name, value]) => ({
          id,
          service: state.service,
          key: state.key,
          name,
          value,
        })),
  );
}

/** The state changes of `ends`, in statements of their own: `clearAll`, then `clear`, then sets. */
async function applyStateChanges(tx: EntityManager, ends: AttemptResult[]): Promise<void> {
  const changes = ends.flatMap((e) => e.state ?? []);
  const clearAll = changes.filter((c) => c.changes.clearAll);
  if (clearAll.length > 0) {
    await tx.query(
      `DELETE FROM object_state s USING unnest($1::text[], $2::text[]) AS u(service, key)
        WHERE s.service_name = u.service AND s.object_key = u.key`,
      [clearAll.map((c) => c.service), clearAll.map((c) => c.key)],
    );
  }
  const cleared = changes.flatMap((c) => c.changes.clear.map((name) => [c.service, c.key, name]));
  if (cleared.length > 0) {
    await tx.query(
      `DELETE FROM object_state s USING unnest($1::text[], $2::text[], $3::text[]) AS u(service, key, name)
        WHERE s.service_name = u.service AND s.object_key = u.key AND s.state_key = u.name`,
      [cleared.map((c) => c[0]), cleared.map((c) => c[1]), cleared.map((c) => c[2])],
    );
  }
  const set = stateSets(ends);
  if (set.length > 0) {
    await tx.query(
      `INSERT INTO object_state (service_name, object_key, state_key, value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
       ON CONFLICT (service_name, object_key, state_key) DO UPDATE SET value = EXCLUDED.value`,
      [
        set.map((s) => s.service),
        set.map((s) => s.key),
        set.map((s) => s.name),
        set.map((s) => s.value),
      ],
    );
  }
}
