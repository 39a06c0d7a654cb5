import { Body, Controller, HttpCode, Inject, Injectable, Param, Post } from '@nestjs/common';
import { Shards } from '@tributary/shared';
import type { Admin } from 'kafkajs';
import { AdminError } from '../common/admin-error';
import { SubscriptionIdPipe } from '../subscriptions/subscription-id.pipe';
import { SubscriptionKafka, SubscriptionKafkaTarget } from './subscription-kafka';

/** Where to move the group: the log start, the log end, an offset, or the first record at a time. */
export interface ResetRequest {
  to: 'earliest' | 'latest' | 'offset' | 'timestamp';
  offset?: number;
  /** Unix milliseconds. */
  timestamp?: number;
  /** One partition; every partition when absent. */
  partition?: number;
  dryRun: boolean;
}

export interface PartitionResetView {
  partition: number;
  committed_offset: number | null;
  target_offset: number;
  end_offset: number;
  /** Records before the current position that the group will read again. */
  records_read_again: number;
  /** Of those, how many still have their invocation (its id is derived from the record): these are not run again. */
  invocations_existing: number;
  /** Records the group will not read (the target is past its position). */
  records_skipped: number;
}

export interface ResetView {
  subscription_id: string;
  group_id: string;
  topic: string;
  applied: boolean;
  records_read_again: number;
  invocations_existing: number;
  /** Records read again that become new invocations: their ids are new (never seen, or purged). */
  new_invocations: number;
  records_skipped: number;
  partitions: PartitionResetView[];
}

const FIELDS = ['to', 'offset', 'timestamp', 'partition', 'dry_run'];

function bad(reason: string): AdminError {
  return AdminError.badRequest(`Invalid request body: ${reason}`);
}

function nonNegativeInteger(value: unknown, name: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw bad(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** The body of `POST /subscriptions/{id}/reset-offsets`; every bad field is a 400 naming it. */
export function parseResetRequest(body: unknown): ResetRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('expected a JSON object such as {"to": "earliest", "dry_run": true}');
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0)
    throw bad(`unknown field(s) ${unknown.join(', ')}; known: ${FIELDS.join(', ')}`);
  const to = b.to;
  if (to !== 'earliest' && to !== 'latest' && to !== 'offset' && to !== 'timestamp') {
    throw bad(`'to' must be one of earliest, latest, offset, timestamp; got ${JSON.stringify(to)}`);
  }
  const req: ResetRequest = { to, dryRun: false };
  if (b.dry_run !== undefined) {
    if (typeof b.dry_run !== 'boolean') throw bad("'dry_run' must be true or false");
    req.dryRun = b.dry_run;
  }
  if (b.partition !== undefined) req.partition = nonNegativeInteger(b.partition, "'partition'");
  if (to === 'offset') {
    if (b.offset === undefined) throw bad("'to': 'offset' needs 'offset'");
    if (req.partition === undefined)
      throw bad("'to': 'offset' needs 'partition' (offsets are per partition)");
    req.offset = nonNegativeInteger(b.offset, "'offset'");
  } else if (b.offset !== undefined) {
    throw bad("'offset' applies only with 'to': 'offset'");
  }
  if (to === 'timestamp') {
    const ts = b.timestamp;
    const ms = typeof ts === 'string' && !/^\d+$/.test(ts) ? Date.parse(ts) : Number(ts);
    if (ts === undefined || !Number.isFinite(ms) || ms < 0) {
      throw bad(
        `'to': 'timestamp' needs 'timestamp' (ISO 8601 or Unix milliseconds), got ${JSON.stringify(ts)}`,
      );
    }
    req.timestamp = ms;
  } else if (b.timestamp !== undefined) {
    throw bad("'timestamp' applies only with 'to': 'timestamp'");
  }
  return req;
}

/**
 * Moves a subscription's consumer group on its topic (replay or skip), with a dry run first that
 * says how many records will be read again and how many of those become new invocations: a
 * record's invocation id is derived from (subscription, topic, partition, offset), so a record
 * whose invocation is still stored is deduplicated, not run again. Kafka moves a group only while
 * it has no members: the subscription must be paused (its workers then leave the group).
 */
@Injectable()
export class OffsetResetService {
  constructor(
    private readonly kafka: SubscriptionKafka,
    @Inject(Shards) private readonly shards: Shards,
  ) {}

  async reset(id: string, req: ResetRequest): Promise<ResetView> {
    const target = await this.kafka.target(id);
    if (!req.dryRun && target.row.status !== 'paused') {
      throw AdminError.conflict(
        `Subscription '${id}' is active: pause it first (PATCH /subscriptions/${id}/pause), so that its workers leave the consumer group; Kafka moves a group's offsets only while it has no members`,
      );
    }
    return this.kafka.withAdmin(target.kafka, 'offset reset', async (admin) => {
      const plan = await this.plan(admin, target, req);
      if (req.dryRun) return plan;
      const { groups } = await admin.describeGroups([target.groupId]);
      const state = groups[0]?.state ?? 'Dead';
      if (state !== 'Empty' && state !== 'Dead') {
        throw AdminError.conflict(
          `The consumer group '${target.groupId}' still has members (state ${state}): the workers leave it within seconds of the pause; try again`,
        );
      }
      await admin.setOffsets({
        groupId: target.groupId,
        topic: target.topic,
        partitions: plan.partitions.map((p) => ({
          partition: p.partition,
          offset: String(p.target_offset),
        })),
      });
      return { ...plan, applied: true };
    });
  }

  private async plan(
    admin: Admin,
    t: SubscriptionKafkaTarget,
    req: ResetRequest,
  ): Promise<ResetView> {
    const marks = await this.kafka.watermarks(admin, t.topic);
    if (req.partition !== undefined && !marks.has(req.partition)) {
      throw AdminError.badRequest(
        `Topic '${t.topic}' has no partition ${req.partition}; it has ${[...marks.keys()].join(', ')}`,
      );
    }
    const committed = await admin.fetchOffsets({ groupId: t.groupId, topics: [t.topic] });
    const committedBy = new Map(
      committed[0]?.partitions.map((p) => [
        p.partition,
        p.offset === '-1' ? null : Number(p.offset),
      ]) ?? [],
    );
    const byTime =
      req.to === 'timestamp'
        ? new Map(
            (await admin.fetchTopicOffsetsByTimestamp(t.topic, req.timestamp)).map((o) => [
              o.partition,
              Number(o.offset),
            ]),
          )
        : null;
    const partitions: PartitionResetView[] = [];
    for (const [partition, { low, high }] of [...marks].sort(([a], [b]) => a - b)) {
      if (req.partition !== undefined && partition !== req.partition) continue;
      let targetOffset: number;
      if (req.to === 'earliest') targetOffset = low;
      else if (req.to === 'latest') targetOffset = high;
      else if (req.to === 'offset') targetOffset = Math.min(Math.max(req.offset!, low), high);
      else {
        // No record at or after the time: Kafka answers -1; the group goes to the end.
        const o = byTime!.get(partition) ?? -1;
        targetOffset = o < 0 ? high : o;
      }
      const current = committedBy.get(partition) ?? null;
      const readAgain = current === null ? 0 : Math.max(0, current - targetOffset);
      const skipped = Math.max(0, targetOffset - (current ?? low));
      const existing =
        readAgain === 0
          ? 0
          : await this.storedInvocations(t.row.id, t.topic, partition, targetOffset, current!);
      partitions.push({
        partition,
        committed_offset: current,
        target_offset: targetOffset,
        end_offset: high,
        records_read_again: readAgain,
        invocations_existing: existing,
        records_skipped: skipped,
      });
    }
    const sum = (f: (p: PartitionResetView) => number) => partitions.reduce((a, p) => a + f(p), 0);
    const readAgain = sum((p) => p.records_read_again);
    const existing = sum((p) => p.invocations_existing);
    return {
      subscription_id: t.row.id,
      group_id: t.groupId,
      topic: t.topic,
      applied: false,
      records_read_again: readAgain,
      invocations_existing: existing,
      new_invocations: readAgain - existing,
      records_skipped: sum((p) => p.records_skipped),
      partitions,
    };
  }

  /** Invocations still stored (in any shard) for the records [from, to) of a partition. */
  private async storedInvocations(
    sub: string,
    topic: string,
    partition: number,
    from: number,
    to: number,
  ): Promise<number> {
    const counts = await this.shards.each(async (db) => {
      const [{ n }] = await db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM invocations
          WHERE subscription_id = $1 AND kafka_topic = $2 AND kafka_partition = $3
            AND kafka_offset >= $4 AND kafka_offset < $5`,
        [sub, topic, partition, from, to],
      );
      return n;
    });
    return counts.reduce((a, b) => a + b, 0);
  }
}

@Controller('subscriptions')
export class OffsetResetController {
  constructor(private readonly offsets: OffsetResetService) {}

  /** Typed loosely so the global ValidationPipe leaves it be: the parser names each bad field. */
  @Post(':id/reset-offsets')
  @HttpCode(200)
  reset(
    @Param('id', SubscriptionIdPipe) id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<ResetView> {
    return this.offsets.reset(id, parseResetRequest(body));
  }
}
