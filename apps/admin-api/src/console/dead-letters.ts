import { Controller, Get, Inject, Injectable, Param, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isIdOfKind, Shards } from '@tributary/shared';
import { DataSource } from 'typeorm';
import { AdminError } from '../common/admin-error';
import { SubscriptionIdPipe } from '../subscriptions/subscription-id.pipe';

export interface DeadLetterView {
  invocation_id: string;
  target: string;
  /** Why it failed: the completion failure, with the last attempt's error code. */
  failure: string | null;
  error_code: number | null;
  retry_count: number;
  completed_at: string | null;
  /** When the record was written to the dead-letter topic; null while that is pending. */
  dead_lettered_at: string | null;
  dead_letter_topic: string;
  kafka: { topic: string; partition: number; offset: string } | null;
}

export interface DeadLetterPage {
  subscription_id: string;
  /** All dead letters of the subscription, over every page. */
  total: number;
  dead_letters: DeadLetterView[];
  next_cursor: string | null;
}

interface Row {
  id: string;
  target_service: string;
  target_key: string;
  target_handler: string;
  completion_failure: string | null;
  last_failure_code: number | null;
  retry_count: number;
  completed_at: Date | null;
  dead_lettered_at: Date | null;
  dead_letter_topic: string;
  kafka_topic: string | null;
  kafka_partition: number | null;
  kafka_offset: string | null;
  exact_completed_at: string;
}

const LIMIT = 50;
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeCursor(value: unknown): [string, string] | null {
  if (value === undefined) return null;
  try {
    if (typeof value !== 'string') throw new Error('not text');
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString()) as unknown;
    if (
      Array.isArray(parsed) &&
      typeof parsed[0] === 'string' &&
      CURSOR_TIME.test(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      isIdOfKind('inv', parsed[1])
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // refused below
  }
  throw AdminError.badRequest(
    "The query parameter 'cursor' is invalid. Reason: not a next_cursor of this list; list again without it",
  );
}

type Sql = [string, unknown[]];

/**
 * The two queries of a page: the total and the page itself, both on the partial index of dead
 * letters (subscription, completion time), whose predicate they spell out.
 */
export function deadLetterQueries(
  id: string,
  cursor: [string, string] | null,
): { total: Sql; page: Sql } {
  const where = `subscription_id = $1 AND dead_letter_topic IS NOT NULL
     AND status = 'completed' AND completion_result = 'failure'`;
  return {
    total: [`SELECT count(*)::int AS total FROM invocations WHERE ${where}`, [id]],
    page: [
      `SELECT id, target_service, target_key, target_handler, completion_failure,
              last_failure_code, retry_count, completed_at, dead_lettered_at, dead_letter_topic,
              kafka_topic, kafka_partition, kafka_offset::text AS kafka_offset,
              to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS exact_completed_at
         FROM invocations
        WHERE ${where}
          AND ($2::timestamptz IS NULL OR (completed_at, id) < ($2::timestamptz, $3))
        ORDER BY completed_at DESC, id DESC
        LIMIT ${LIMIT + 1}`,
      [id, cursor?.[0] ?? null, cursor?.[1] ?? null],
    ],
  };
}

/**
 * A subscription's dead letters: its invocations that ended in failure with a dead-letter topic
 * (the invoker writes their records there, `dead_lettered_at` once written), newest failure
 * first, with why. Re-driving one is `PATCH /invocations/{id}/restart-as-new`: a new invocation
 * with the same input and headers.
 */
@Injectable()
export class DeadLetterService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Shards) private readonly shards: Shards,
  ) {}

  async page(id: string, cursor: [string, string] | null): Promise<DeadLetterPage> {
    const exists = await this.db.query<unknown[]>(`SELECT 1 FROM subscriptions WHERE id = $1`, [
      id,
    ]);
    if (exists.length === 0) {
      throw AdminError.notFound(`The requested subscription '${id}' does not exist`);
    }
    // Each shard's first LIMIT + 1 after the cursor; the newest of them all are the page.
    const q = deadLetterQueries(id, cursor);
    const perShard = await this.shards.each(async (db) => {
      const [{ total }] = await db.query<{ total: number }[]>(...q.total);
      return { total, rows: await db.query<Row[]>(...q.page) };
    });
    const total = perShard.reduce((sum, s) => sum + s.total, 0);
    const rows = perShard
      .flatMap((s) => s.rows)
      .sort((a, b) =>
        a.exact_completed_at !== b.exact_completed_at
          ? a.exact_completed_at < b.exact_completed_at
            ? 1
            : -1
          : a.id < b.id
            ? 1
            : -1,
      );
    const page = rows.slice(0, LIMIT);
    const last = page[page.length - 1];
    return {
      subscription_id: id,
      total,
      dead_letters: page.map((r) => ({
        invocation_id: r.id,
        target:
          r.target_key === ''
            ? `${r.target_service}/${r.target_handler}`
            : `${r.target_service}/${r.target_key}/${r.target_handler}`,
        failure: r.completion_failure,
        error_code: r.last_failure_code,
        retry_count: r.retry_count,
        completed_at: r.completed_at?.toISOString() ?? null,
        dead_lettered_at: r.dead_lettered_at?.toISOString() ?? null,
        dead_letter_topic: r.dead_letter_topic,
        kafka:
          r.kafka_topic === null || r.kafka_partition === null || r.kafka_offset === null
            ? null
            : { topic: r.kafka_topic, partition: r.kafka_partition, offset: r.kafka_offset },
      })),
      next_cursor:
        rows.length > LIMIT
          ? Buffer.from(JSON.stringify([last.exact_completed_at, last.id])).toString('base64url')
          : null,
    };
  }
}

@Controller('subscriptions')
export class DeadLetterController {
  constructor(private readonly deadLetters: DeadLetterService) {}

  @Get(':id/dead-letters')
  page(
    @Param('id', SubscriptionIdPipe) id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<DeadLetterPage> {
    const unknown = Object.keys(query).filter((k) => k !== 'cursor');
    if (unknown.length > 0) {
      throw AdminError.badRequest(
        `Unknown query parameter '${unknown[0]}'. Known parameters: cursor`,
      );
    }
    return this.deadLetters.page(id, decodeCursor(query.cursor));
  }
}
