import { Inject, Injectable } from '@nestjs/common';
import {
  deliverToInbox,
  InvocationAttemptEntity,
  InvocationEntity,
  InvocationJournalEntity,
  InvocationListingEntity,
  InvocationPayloadEntity,
  InvocationStatus,
  returnedRows,
  Shards,
  WakeAddress,
} from '@tributary/shared';
import { buildMessage, MessageType } from '@tributary/shared/restate';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { InvocationDetailRow, InvocationRow } from './invocation.view';
import type { InvocationCursor, InvocationFilter } from './list-invocations.query';

/** What the admin API needs to decide on an invocation and to address its invoker. */
export type InvocationControlRow = Pick<
  InvocationEntity,
  | 'id'
  | 'status'
  | 'targetService'
  | 'targetKey'
  | 'serviceTy'
  | 'handlerTy'
  | 'busPartition'
  | 'callerId'
  | 'callerCompletionId'
>;

export type InvocationOutputRow = Pick<
  InvocationEntity,
  | 'id'
  | 'status'
  | 'completionResult'
  | 'completionFailure'
  | 'lastFailureCode'
  | 'output'
  | 'outputContentType'
>;

const VIEW_COLUMNS: (keyof InvocationRow)[] = [
  'id',
  'targetService',
  'targetHandler',
  'targetKey',
  'serviceTy',
  'status',
  'completionResult',
  'completionFailure',
  'invokedBy',
  'subscriptionId',
  'restartedFrom',
  'callerId',
  'workflowRunOf',
  'createdAt',
  'modifiedAt',
  'inboxedAt',
  'scheduledAt',
  'runningAt',
  'completedAt',
  'retryCount',
  'nextRetryAt',
  'lastFailure',
  'lastFailureCode',
  'kafkaTopic',
  'kafkaPartition',
  'kafkaOffset',
  'kafkaTimestamp',
  'deadLetterTopic',
  'deadLetteredAt',
];

const CONTROL_COLUMNS: (keyof InvocationControlRow)[] = [
  'id',
  'status',
  'targetService',
  'targetKey',
  'serviceTy',
  'handlerTy',
  'busPartition',
  'callerId',
  'callerCompletionId',
];

/** created_at to the microsecond, as the cursor carries it. */
/**
 * The key filter on `invocations` alone: the digest first, then the key itself (the list query
 * compares the listing's `key_digest` instead).
 */
export const KEY_FILTER = 'md5(inv.target_key) = md5(:key) AND inv.targetKey = :key';

const EXACT_CREATED_AT = `to_char(inv.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The invocations table as the admin API sees it, over every shard (`database.shards`): a list
 * merges the shards' pages, an invocation is looked up in the shard that has it. The invoker owns
 * the rows; every write here is conditional on the status the caller decided from, so a
 * concurrent change by the invoker makes the write a no-op (false) instead of overwriting it.
 */
@Injectable()
export class InvocationRepository {
  constructor(@Inject(Shards) private readonly shards: Shards) {}

  /**
   * One page, newest first; `next` is set when older rows remain. Each shard gives its first
   * `limit + 1` rows after the cursor, in the same order: the newest `limit + 1` of them all are
   * the page (and whether more remain).
   */
  async list(
    filter: InvocationFilter,
    limit: number,
    cursor: InvocationCursor | null,
  ): Promise<{ rows: InvocationRow[]; next: InvocationCursor | null }> {
    const pages = await this.shards.each(async (db) => {
      const { entities, raw } = await this.listQuery(filter, limit, cursor, db).getRawAndEntities<{
        exact_created_at: string;
      }>();
      return entities.map((row, i) => ({ row, at: raw[i].exact_created_at }));
    });
    // The exact timestamps are fixed-width UTC text: they order as the times do.
    const merged =
      pages.length === 1
        ? pages[0]
        : pages
            .flat()
            .sort((a, b) =>
              a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.row.id < b.row.id ? 1 : -1,
            );
    if (merged.length <= limit) return { rows: merged.map((m) => m.row), next: null };
    const last = merged[limit - 1];
    return {
      rows: merged.slice(0, limit).map((m) => m.row),
      next: { createdAt: last.at, id: last.row.id },
    };
  }

  /**
   * The query of one page (one row more than `limit`, to tell whether more remain), newest first
   * by (created_at, id). Filtered to open statuses only (no `completed`), it reads `invocations`
   * alone: the open rows are few next to the completed ones, the partial indexes on the status
   * find them, and the page is the newest of them sorted. Otherwise it reads `invocation_listing`
   * (l) newest first, where each filter on the subscription, service, key or creation time has an
   * index in this order, and joins each entry to its invocation for the rest (walking the listing
   * for a rare open status would look up an invocation per entry until the page is full).
   * console-plans.int-spec.ts checks the plans.
   */
  listQuery(
    filter: InvocationFilter,
    limit: number,
    cursor: InvocationCursor | null,
    db: DataSource = this.shards.all[0],
  ): SelectQueryBuilder<InvocationEntity> {
    const openOnly = filter.statuses !== undefined && !filter.statuses.includes('completed');
    const qb = db
      .getRepository(InvocationEntity)
      .createQueryBuilder('inv')
      .select(VIEW_COLUMNS.map((c) => `inv.${c}`))
      .addSelect(EXACT_CREATED_AT, 'exact_created_at')
      .limit(limit + 1);
    // The columns the order, the cursor and the listing's filters go by.
    const by = openOnly ? 'inv' : 'l';
    if (!openOnly) qb.innerJoin(InvocationListingEntity, 'l', 'l.id = inv.id');
    qb.orderBy(`${by}.createdAt`, 'DESC').addOrderBy(`${by}.id`, 'DESC');
    if (filter.statuses) qb.andWhere('inv.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.service !== undefined) {
      qb.andWhere(`${by}.targetService = :service`, { service: filter.service });
    }
    if (filter.handler !== undefined) {
      qb.andWhere('inv.targetHandler = :handler', { handler: filter.handler });
    }
    if (filter.key !== undefined) {
      if (!openOnly) qb.andWhere('l.keyDigest = md5(:key)', { key: filter.key });
      qb.andWhere('inv.targetKey = :key', { key: filter.key });
    }
    if (filter.subscriptionId !== undefined) {
      qb.andWhere(`${by}.subscriptionId = :sub`, { sub: filter.subscriptionId });
    }
    if (filter.createdAfter !== undefined) {
      qb.andWhere(`${by}.createdAt > CAST(:after AS timestamptz)`, { after: filter.createdAfter });
    }
    if (filter.createdBefore !== undefined) {
      qb.andWhere(`${by}.createdAt < CAST(:before AS timestamptz)`, {
        before: filter.createdBefore,
      });
    }
    if (cursor) {
      qb.andWhere(`(${by}.createdAt, ${by}.id) < (CAST(:cursorAt AS timestamptz), :cursorId)`, {
        cursorAt: cursor.createdAt,
        cursorId: cursor.id,
      });
    }
    return qb;
  }

  async findDetail(id: string): Promise<InvocationDetailRow | undefined> {
    const db = await this.shards.locate(id);
    const row = await db
      ?.getRepository(InvocationEntity)
      .findOne({ select: VIEW_COLUMNS, where: { id } });
    if (!db || !row) return undefined;
    const payload = await db.getRepository(InvocationPayloadEntity).findOne({
      select: ['headers', 'rawHeaders'],
      where: { id },
    });
    const journal = await db.getRepository(InvocationJournalEntity).find({
      select: ['idx', 'type', 'body'],
      where: { id },
      order: { idx: 'ASC' },
    });
    const attempts = await db.getRepository(InvocationAttemptEntity).find({
      select: ['startedAt', 'endedAt', 'code', 'failure'],
      where: { id },
      order: { epoch: 'ASC' },
    });
    return {
      ...row,
      headers: payload?.headers ?? {},
      rawHeaders: payload?.rawHeaders ?? null,
      journal,
      attempts,
    };
  }

  async findOutput(id: string): Promise<InvocationOutputRow | undefined> {
    const db = await this.shards.locate(id);
    const row = await db?.getRepository(InvocationEntity).findOne({
      select: [
        'id',
        'status',
        'completionResult',
        'completionFailure',
        'lastFailureCode',
        'output',
        'outputContentType',
      ],
      where: { id },
    });
    return row ?? undefined;
  }

  async findControl(id: string): Promise<InvocationControlRow | undefined> {
    const db = await this.shards.locate(id);
    const row = await db
      ?.getRepository(InvocationEntity)
      .findOne({ select: CONTROL_COLUMNS, where: { id } });
    return row ?? undefined;
  }

  /** The payload (input and headers) of an invocation. */
  async findPayload(id: string): Promise<InvocationPayloadEntity | undefined> {
    const db = await this.shards.locate(id);
    return (
      (await db?.getRepository(InvocationPayloadEntity).findOne({ where: { id } })) ?? undefined
    );
  }

  /**
   * Ends an invocation that is not running as failed (killed or canceled), and in the same
   * transaction gives a Restate SDK caller waiting on it that failure as its call's result; its
   * journal, inbox and promise waits go with it. Returns whether it was ended, and the caller if
   * it was suspended (to be woken; a lost `wake` is caught by the invoker's sweep). A caller in
   * another shard gets it through this shard's outbox, which the invokers relay.
   */
  async complete(
    row: InvocationControlRow,
    from: InvocationStatus[],
    failure: string,
  ): Promise<{ done: boolean; wake: WakeAddress[] }> {
    const db = await this.shards.locate(row.id);
    if (!db) return { done: false, wake: [] };
    return db.transaction(async (tx) => {
      const ended = returnedRows<{ id: string }>(
        await tx.query(
          `UPDATE invocations
              SET status = 'completed', completion_result = 'failure', completion_failure = $3,
                  completed_at = now(), next_retry_at = NULL, modified_at = now()
            WHERE id = $1 AND status = ANY($2) RETURNING id`,
          [row.id, from, failure],
        ),
      );
      if (ended.length === 0) return { done: false, wake: [] };
      await tx.query(`DELETE FROM invocation_journal WHERE id = $1`, [row.id]);
      await tx.query(`DELETE FROM invocation_inbox WHERE id = $1`, [row.id]);
      await tx.query(`DELETE FROM workflow_promise_waiters WHERE invocation_id = $1`, [row.id]);
      if (row.callerId === null || row.callerCompletionId === null) return { done: true, wake: [] };
      const message = buildMessage(MessageType.CallCompletionNotification, {
        completionId: row.callerCompletionId,
        result: { case: 'failure', value: { code: 409, message: failure } },
      });
      const delivery = { id: row.callerId, dedup: `c:${row.callerCompletionId}`, ...message };
      const here: unknown[] = await tx.query(`SELECT 1 FROM invocations WHERE id = $1`, [
        row.callerId,
      ]);
      if (here.length === 0 && this.shards.count > 1) {
        await tx.query(
          `INSERT INTO shard_outbox (id, dedup, type, flags, body) VALUES ($1, $2, $3, $4, $5)`,
          [delivery.id, delivery.dedup, delivery.type, delivery.flags, Buffer.from(delivery.body)],
        );
        return { done: true, wake: [] };
      }
      return { done: true, wake: await deliverToInbox(tx, [delivery]) };
    });
  }

  pause(id: string, from: InvocationStatus[]): Promise<boolean> {
    return this.updateIf(id, from, { status: 'paused', nextRetryAt: null });
  }

  /** Back in its queue, runnable now: exclusive ones wait for their key again. */
  resumePaused(id: string): Promise<boolean> {
    return this.updateIf(id, ['paused'], {
      status: () => `CASE WHEN "exclusive" THEN 'pending' ELSE 'ready' END`,
      nextRetryAt: () => 'now()',
    });
  }

  /** Cuts a back-off short: the next attempt is due now. */
  retryNow(id: string): Promise<boolean> {
    return this.updateIf(id, ['backing-off'], { nextRetryAt: () => 'now()' });
  }

  async deleteCompleted(id: string): Promise<boolean> {
    const db = await this.shards.locate(id);
    if (!db) return false;
    // The journal too, in case one is kept after completion (the retention job deletes it too).
    const deleted: unknown[] = await db.query(
      `WITH d AS (DELETE FROM invocations WHERE id = $1 AND status = 'completed' RETURNING id),
       j AS (DELETE FROM invocation_journal j USING d WHERE j.id = d.id),
       b AS (DELETE FROM invocation_inbox b USING d WHERE b.id = d.id),
       a AS (DELETE FROM invocation_attempts a USING d WHERE a.id = d.id)
       DELETE FROM invocation_payloads p USING d WHERE p.id = d.id RETURNING d.id`,
      [id],
    );
    return returnedRows(deleted).length > 0;
  }

  /**
   * A new invocation of the same target with the same input, headers and record, on the same bus
   * partition (so the same invoker owns it), at the end of its key's queue. Nothing is inserted
   * unless the original is still there and completed.
   */
  async insertRestart(originalId: string, newId: string, exclusive: boolean): Promise<boolean> {
    // Same bus partition, so the same shard as the original.
    const db = await this.shards.locate(originalId);
    if (!db) return false;
    const inserted: unknown[] = await db.query(
      `WITH ins AS (
         INSERT INTO invocations (id, target_service, target_handler, target_key, service_ty,
           handler_ty, exclusive, status, invoked_by, subscription_id, kafka_topic, kafka_partition,
           kafka_offset, kafka_timestamp, kafka_key, bus_partition, dead_letter_topic,
           restarted_from, retry_policy, inboxed_at)
         SELECT $2, target_service, target_handler, target_key, service_ty, handler_ty, $3,
           CASE WHEN $3 THEN 'pending' ELSE 'ready' END, 'restart_as_new', subscription_id,
           kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, kafka_key, bus_partition,
           dead_letter_topic, id, retry_policy, CASE WHEN $3 THEN now() END
           FROM invocations WHERE id = $1 AND status = 'completed'
         RETURNING id, restarted_from),
       payload AS (
         INSERT INTO invocation_payloads (id, input, headers, raw_headers)
         SELECT ins.id, p.input, p.headers, p.raw_headers
           FROM ins JOIN invocation_payloads p ON p.id = ins.restarted_from)
       SELECT id FROM ins`,
      [originalId, newId, exclusive],
    );
    return inserted.length > 0;
  }

  private async updateIf(
    id: string,
    from: InvocationStatus[],
    changes: QueryDeepPartialEntity<InvocationEntity>,
  ): Promise<boolean> {
    const db = await this.shards.locate(id);
    if (!db) return false;
    const result = await db
      .getRepository(InvocationEntity)
      .createQueryBuilder()
      .update()
      .set({ ...changes, modifiedAt: () => 'now()' })
      .where('id = :id AND status IN (:...from)', { id, from })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
