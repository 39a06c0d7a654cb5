import { randomUUID } from 'node:crypto';
import { Controller, Get, Injectable, Param, Query } from '@nestjs/common';
import { invocationIdForRecord } from '@tributary/shared';
import type { KafkaMessage } from 'kafkajs';
import { AdminError } from '../common/admin-error';
import { SubscriptionIdPipe } from '../subscriptions/subscription-id.pipe';
import { SubscriptionKafka, withTimeout } from './subscription-kafka';

export interface RecordView {
  partition: number;
  offset: string;
  /** Unix milliseconds, as Kafka gives it. */
  timestamp: string;
  /** Key and value as base64 (null when absent): the console decodes them (JSON, UTF-8, hex). */
  key: string | null;
  value: string | null;
  /** Header values as base64: a header may hold any bytes. */
  headers: Record<string, string>;
  /** The invocation this record becomes, derived from it (whether it exists yet or not). */
  invocation_id: string;
}

export interface RecordPageView {
  topic: string;
  partition: number;
  /** The partition's first and next offset (log start, log end). */
  low_offset: string;
  high_offset: string;
  records: RecordView[];
  /** Where the next page starts; null at the log end. */
  next_offset: string | null;
}

export const MAX_RECORDS = 100;
const PARAMETERS = ['partition', 'offset', 'timestamp', 'limit'];

export interface RecordQuery {
  partition: number;
  offset?: number;
  timestamp?: number;
  limit: number;
}

function invalid(name: string, reason: string): AdminError {
  return AdminError.badRequest(`The query parameter '${name}' is invalid. Reason: ${reason}`);
}

function integer(query: Record<string, unknown>, name: string): number | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) {
    throw invalid(name, `expected a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

export function parseRecordQuery(query: Record<string, unknown>): RecordQuery {
  for (const name of Object.keys(query)) {
    if (!PARAMETERS.includes(name)) {
      throw AdminError.badRequest(
        `Unknown query parameter '${name}'. Known parameters: ${PARAMETERS.join(', ')}`,
      );
    }
  }
  const offset = integer(query, 'offset');
  let timestamp: number | undefined;
  const ts = query.timestamp;
  if (ts !== undefined) {
    timestamp = typeof ts !== 'string' ? NaN : /^\d+$/.test(ts) ? Number(ts) : Date.parse(ts);
    if (!Number.isFinite(timestamp)) {
      throw invalid(
        'timestamp',
        `expected ISO 8601 or Unix milliseconds, got ${JSON.stringify(ts)}`,
      );
    }
  }
  if (offset !== undefined && timestamp !== undefined) {
    throw invalid('timestamp', "give either 'offset' or 'timestamp', not both");
  }
  const limit = integer(query, 'limit') ?? 20;
  if (limit < 1 || limit > MAX_RECORDS) throw invalid('limit', `expected 1 to ${MAX_RECORDS}`);
  return { partition: integer(query, 'partition') ?? 0, offset, timestamp, limit };
}

/** kafkajs gives a header as bytes, text, or a list of them when repeated (the first is kept). */
const headerBytes = (v: unknown): Buffer | null =>
  Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : null;

const b64 = (b: Buffer | null | undefined): string | null =>
  b == null ? null : b.toString('base64');

/**
 * Reads a page of a subscription's topic, one partition from an offset (or from the first record
 * at or after a time; by default the last `limit` records), without touching the subscription's
 * group: a throwaway consumer group that commits nothing, deleted afterwards. Each record carries
 * the id of the invocation it becomes, derived as the worker derives it.
 */
@Injectable()
export class RecordBrowserService {
  constructor(private readonly kafka: SubscriptionKafka) {}

  async page(id: string, q: RecordQuery): Promise<RecordPageView> {
    const t = await this.kafka.target(id);
    const { low, high, start } = await this.kafka.withAdmin(
      t.kafka,
      'record browser',
      async (admin) => {
        const marks = await this.kafka.watermarks(admin, t.topic);
        const m = marks.get(q.partition);
        if (!m) {
          throw invalid(
            'partition',
            `topic '${t.topic}' has partitions ${[...marks.keys()].join(', ')}`,
          );
        }
        let from: number;
        if (q.timestamp !== undefined) {
          const found = (await admin.fetchTopicOffsetsByTimestamp(t.topic, q.timestamp)).find(
            (o) => o.partition === q.partition,
          );
          from = found && Number(found.offset) >= 0 ? Number(found.offset) : m.high;
        } else {
          from = q.offset ?? Math.max(m.low, m.high - q.limit);
        }
        return { ...m, start: Math.min(Math.max(from, m.low), m.high) };
      },
    );
    const want = Math.min(q.limit, high - start);
    const messages = want <= 0 ? [] : await this.read(t.kafka, t.topic, q.partition, start, want);
    const records = messages.map((m) => ({
      partition: q.partition,
      offset: m.offset,
      timestamp: m.timestamp,
      key: b64(m.key),
      value: b64(m.value),
      headers: Object.fromEntries(
        Object.entries(m.headers ?? {}).map(([k, v]) => [
          k,
          b64(headerBytes(Array.isArray(v) ? v[0] : v)) ?? '',
        ]),
      ),
      invocation_id: invocationIdForRecord(id, t.topic, q.partition, m.offset),
    }));
    const last = records.length === 0 ? start - 1 : Number(records[records.length - 1].offset);
    return {
      topic: t.topic,
      partition: q.partition,
      low_offset: String(low),
      high_offset: String(high),
      records,
      next_offset: last + 1 < high ? String(last + 1) : null,
    };
  }

  private async read(
    kafka: Parameters<SubscriptionKafka['client']>[0],
    topic: string,
    partition: number,
    start: number,
    want: number,
  ): Promise<KafkaMessage[]> {
    const client = this.kafka.client(kafka, 'record browser');
    const groupId = `tributary-console-${randomUUID()}`;
    const consumer = client.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    const out: KafkaMessage[] = [];
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const others = (payload.memberAssignment[topic] ?? []).filter((p) => p !== partition);
        if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (batch.partition !== partition) return;
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset < start || out.length >= want) continue;
            out.push(m);
          }
          if (out.length >= want) finish();
        },
      });
      consumer.seek({ topic, partition, offset: String(start) });
      await withTimeout(
        done,
        `reading ${want} record(s) of ${topic}/${partition} from offset ${start}`,
      );
      return out;
    } finally {
      await consumer.disconnect().catch(() => undefined);
      const admin = client.admin();
      await admin
        .connect()
        .then(() => admin.deleteGroups([groupId]))
        .catch(() => undefined)
        .finally(() => admin.disconnect().catch(() => undefined));
    }
  }
}

@Controller('subscriptions')
export class RecordBrowserController {
  constructor(private readonly records: RecordBrowserService) {}

  /** Typed loosely so the global ValidationPipe leaves it be: the parser names each bad value. */
  @Get(':id/records')
  page(
    @Param('id', SubscriptionIdPipe) id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<RecordPageView> {
    return this.records.page(id, parseRecordQuery(query));
  }
}
