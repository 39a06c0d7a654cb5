import { Controller, Get, Inject, Injectable, Query } from '@nestjs/common';
import { INVOCATION_STATUSES, InvocationEntity, InvocationStatus, Shards } from '@tributary/shared';
import { ObjectLiteral, Repository, SelectQueryBuilder } from 'typeorm';
import { AdminError } from '../common/admin-error';
import { KEY_FILTER } from '../invocations/invocation.repository';
import { InvocationFilter, parseListInvocationsQuery } from '../invocations/list-invocations.query';

export type StatusCounts = Record<InvocationStatus, number>;
export type OpenStatus = Exclude<InvocationStatus, 'completed'>;
export type OpenStatusCounts = Record<OpenStatus, number>;

const OPEN_STATUSES = INVOCATION_STATUSES.filter((s): s is OpenStatus => s !== 'completed');

/**
 * Completed invocations are counted up to this many: past it the count says "at least" (the
 * console shows `10000+`). Counting every completed row of a large table costs a scan of it on
 * every poll; open ones are few (ingestion's backpressure bounds them) and counted exactly.
 */
export const COMPLETED_COUNT_CAP = 10_000;

export interface SubscriptionCountsView {
  subscription_id: string;
  /** Its open (not completed) invocations by status, exactly. */
  open: OpenStatusCounts;
  /** Invocations of the subscription that ended in the minute before `as_of`. */
  last_minute: { completed: number; failed: number; dead_lettered: number };
}

export interface InvocationCountsView {
  /** The admin API's clock when it counted: only invocations created before it are counted. */
  as_of: string;
  /** Completed invocations are counted up to this many. */
  cap: number;
  /** True when the completed ones reached `cap`: `by_status.completed` and `total` are at least. */
  capped: boolean;
  total: number;
  by_status: StatusCounts;
  by_subscription: SubscriptionCountsView[];
}

type Builder = SelectQueryBuilder<InvocationEntity>;

/** The queries of one count, by name: the plan test (console-plans.int-spec.ts) explains each. */
export interface CountQueries {
  /** Open invocations by subscription and status: the partial index of open rows. */
  open: Builder | null;
  /** Completed ones, up to the cap: an index of the filter's column when there is one. */
  completed: SelectQueryBuilder<ObjectLiteral> | null;
  /** Ended in the last minute, by subscription: the index of completion times. */
  recent: Builder | null;
  /** Dead-lettered in the last minute, by subscription: the index of dead-lettering times. */
  deadLettered: Builder | null;
}

/**
 * `GET /invocation-counts`: how many invocations `GET /invocations`' filters match, by status
 * and by subscription, with what ended in the last minute. The console's overview and its bulk
 * actions (which show the count before they run, and then touch only invocations created before
 * `as_of`) use it. Four indexed queries, none of which reads more than the open invocations, the
 * last minute's completions, and `cap` completed ones (docs/console.md, "At a million
 * invocations").
 */
@Injectable()
export class InvocationCountsService {
  constructor(@Inject(Shards) private readonly shards: Shards) {}

  queries(filter: InvocationFilter, asOf: string, db = this.shards.all[0]): CountQueries {
    const invocations = db.getRepository(InvocationEntity);
    const base = () => {
      const qb = invocations
        .createQueryBuilder('inv')
        .where('inv.createdAt < CAST(:asOf AS timestamptz)', { asOf });
      applyFilter(qb, filter);
      return qb;
    };
    const wants = (s: InvocationStatus) => !filter.statuses || filter.statuses.includes(s);
    const open = OPEN_STATUSES.some(wants)
      ? base()
          .select('inv.subscriptionId', 'subscription_id')
          .addSelect('inv.status', 'status')
          .addSelect('COUNT(*)::int', 'n')
          // Spelled as the partial index's predicate, so the planner can use it.
          .andWhere(`inv.status <> 'completed'`)
          .groupBy('inv.subscriptionId')
          .addGroupBy('inv.status')
      : null;
    // Completed ones, and what ended lately, only when the filter lets completed ones in.
    if (!wants('completed')) return { open, completed: null, recent: null, deadLettered: null };
    const capped = base()
      .select('1')
      .andWhere(`inv.status = 'completed'`)
      .limit(COMPLETED_COUNT_CAP);
    const completed = invocations.manager
      .createQueryBuilder()
      .select('COUNT(*)::int', 'n')
      .from(`(${capped.getQuery()})`, 'capped')
      .setParameters(capped.getParameters());
    const lastMinute = `> CAST(:asOf AS timestamptz) - interval '1 minute'`;
    const recent = base()
      .select('inv.subscriptionId', 'subscription_id')
      .addSelect(`(COUNT(*) FILTER (WHERE inv.completionResult = 'success'))::int`, 'completed')
      .addSelect(`(COUNT(*) FILTER (WHERE inv.completionResult = 'failure'))::int`, 'failed')
      .andWhere(`inv.status = 'completed'`)
      .andWhere(`inv.completedAt ${lastMinute}`)
      .groupBy('inv.subscriptionId');
    const deadLettered = base()
      .select('inv.subscriptionId', 'subscription_id')
      .addSelect('COUNT(*)::int', 'n')
      .andWhere(`inv.deadLetteredAt ${lastMinute}`)
      .groupBy('inv.subscriptionId');
    return { open, completed, recent, deadLettered };
  }

  /** The counts of every shard, added up (the cap applies to their sum). */
  async count(filter: InvocationFilter): Promise<InvocationCountsView> {
    const [{ as_of }] = await this.shards.all[0].query<{ as_of: string }[]>(
      `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS as_of`,
    );
    const perShard = await this.shards.each(async (db) => {
      const q = this.queries(filter, as_of, db);
      return Promise.all([
        q.open?.getRawMany<{ subscription_id: string | null; status: OpenStatus; n: number }>() ??
          [],
        q.completed?.getRawOne<{ n: number }>(),
        q.recent?.getRawMany<{
          subscription_id: string | null;
          completed: number;
          failed: number;
        }>() ?? [],
        q.deadLettered?.getRawMany<{ subscription_id: string | null; n: number }>() ?? [],
      ]);
    });
    const open = perShard.flatMap((p) => p[0]);
    const recent = perShard.flatMap((p) => p[2]);
    const dead = perShard.flatMap((p) => p[3]);
    const byStatus = Object.fromEntries(INVOCATION_STATUSES.map((s) => [s, 0])) as StatusCounts;
    byStatus.completed = Math.min(
      COMPLETED_COUNT_CAP,
      perShard.reduce((sum, p) => sum + (p[1]?.n ?? 0), 0),
    );
    const bySub = new Map<string, SubscriptionCountsView>();
    const of = (id: string): SubscriptionCountsView => {
      let s = bySub.get(id);
      if (!s) {
        s = {
          subscription_id: id,
          open: Object.fromEntries(OPEN_STATUSES.map((st) => [st, 0])) as OpenStatusCounts,
          last_minute: { completed: 0, failed: 0, dead_lettered: 0 },
        };
        bySub.set(id, s);
      }
      return s;
    };
    for (const r of open) {
      byStatus[r.status] += r.n;
      if (r.subscription_id !== null) of(r.subscription_id).open[r.status] += r.n;
    }
    for (const r of recent) {
      if (r.subscription_id === null) continue;
      of(r.subscription_id).last_minute.completed += r.completed;
      of(r.subscription_id).last_minute.failed += r.failed;
    }
    for (const r of dead) {
      if (r.subscription_id !== null) of(r.subscription_id).last_minute.dead_lettered += r.n;
    }
    return {
      as_of,
      cap: COMPLETED_COUNT_CAP,
      capped: byStatus.completed >= COMPLETED_COUNT_CAP,
      total: INVOCATION_STATUSES.reduce((sum, s) => sum + byStatus[s], 0),
      by_status: byStatus,
      by_subscription: [...bySub.values()].sort((a, b) =>
        a.subscription_id.localeCompare(b.subscription_id),
      ),
    };
  }
}

/** The filters of `GET /invocations`, as its repository applies them. */
function applyFilter(
  qb: ReturnType<Repository<InvocationEntity>['createQueryBuilder']>,
  filter: InvocationFilter,
): void {
  if (filter.statuses) qb.andWhere('inv.status IN (:...statuses)', { statuses: filter.statuses });
  if (filter.service !== undefined) qb.andWhere('inv.targetService = :service', filter);
  if (filter.handler !== undefined) qb.andWhere('inv.targetHandler = :handler', filter);
  if (filter.key !== undefined) qb.andWhere(KEY_FILTER, filter);
  if (filter.subscriptionId !== undefined) {
    qb.andWhere('inv.subscriptionId = :subscriptionId', filter);
  }
  if (filter.createdAfter !== undefined) {
    qb.andWhere('inv.createdAt > CAST(:createdAfter AS timestamptz)', filter);
  }
  if (filter.createdBefore !== undefined) {
    qb.andWhere('inv.createdAt < CAST(:createdBefore AS timestamptz)', filter);
  }
}

@Controller('invocation-counts')
export class InvocationCountsController {
  constructor(private readonly counts: InvocationCountsService) {}

  /** Typed loosely so the global ValidationPipe leaves it be: the parser names each bad value. */
  @Get()
  count(@Query() query: Record<string, unknown>): Promise<InvocationCountsView> {
    for (const name of ['limit', 'cursor']) {
      if (name in query) {
        throw AdminError.badRequest(
          `The query parameter '${name}' does not apply here: GET /invocation-counts counts every invocation the filters match (page them with GET /invocations)`,
        );
      }
    }
    return this.counts.count(parseListInvocationsQuery(query).filter);
  }
}
