import { Controller, Get, Injectable, Query } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { INVOCATION_STATUSES, InvocationEntity, InvocationStatus } from '@tributary/shared';
import { Repository } from 'typeorm';
import { AdminError } from '../common/admin-error';
import { InvocationFilter, parseListInvocationsQuery } from '../invocations/list-invocations.query';

export type StatusCounts = Record<InvocationStatus, number>;

export interface SubscriptionCountsView {
  subscription_id: string;
  by_status: StatusCounts;
  /** Invocations of the subscription that ended in the minute before `as_of`. */
  last_minute: { completed: number; failed: number; dead_lettered: number };
}

export interface InvocationCountsView {
  /** The admin API's clock when it counted: only invocations created before it are counted. */
  as_of: string;
  total: number;
  by_status: StatusCounts;
  by_subscription: SubscriptionCountsView[];
}

function zeroCounts(): StatusCounts {
  return Object.fromEntries(INVOCATION_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

interface CountRow {
  subscription_id: string | null;
  status: InvocationStatus;
  n: number;
  completed: number;
  failed: number;
  dead_lettered: number;
}

/**
 * `GET /invocation-counts`: how many invocations `GET /invocations`' filters match, by status
 * and by subscription, with what ended in the last minute. The console's overview and its bulk
 * actions (which show the count before they run, and then touch only invocations created before
 * `as_of`) use it. One grouped query; see docs/console.md for its cost on a large table.
 */
@Injectable()
export class InvocationCountsService {
  constructor(
    @InjectRepository(InvocationEntity) private readonly invocations: Repository<InvocationEntity>,
  ) {}

  async count(filter: InvocationFilter): Promise<InvocationCountsView> {
    const [{ as_of }] = await this.invocations.query<{ as_of: string }[]>(
      `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS as_of`,
    );
    const recent = `inv.completedAt > CAST(:asOf AS timestamptz) - interval '1 minute'`;
    const qb = this.invocations
      .createQueryBuilder('inv')
      .select('inv.subscriptionId', 'subscription_id')
      .addSelect('inv.status', 'status')
      .addSelect('COUNT(*)::int', 'n')
      .addSelect(
        `(COUNT(*) FILTER (WHERE ${recent} AND inv.completionResult = 'success'))::int`,
        'completed',
      )
      .addSelect(
        `(COUNT(*) FILTER (WHERE ${recent} AND inv.completionResult = 'failure'))::int`,
        'failed',
      )
      .addSelect(
        `(COUNT(*) FILTER (WHERE inv.deadLetteredAt > CAST(:asOf AS timestamptz) - interval '1 minute'))::int`,
        'dead_lettered',
      )
      .where('inv.createdAt < CAST(:asOf AS timestamptz)', { asOf: as_of })
      .groupBy('inv.subscriptionId')
      .addGroupBy('inv.status');
    applyFilter(qb, filter);
    const rows = await qb.getRawMany<CountRow>();
    const byStatus = zeroCounts();
    const bySub = new Map<string, SubscriptionCountsView>();
    let total = 0;
    for (const r of rows) {
      total += r.n;
      byStatus[r.status] += r.n;
      if (r.subscription_id === null) continue;
      let s = bySub.get(r.subscription_id);
      if (!s) {
        s = {
          subscription_id: r.subscription_id,
          by_status: zeroCounts(),
          last_minute: { completed: 0, failed: 0, dead_lettered: 0 },
        };
        bySub.set(r.subscription_id, s);
      }
      s.by_status[r.status] += r.n;
      s.last_minute.completed += r.completed;
      s.last_minute.failed += r.failed;
      s.last_minute.dead_lettered += r.dead_lettered;
    }
    return {
      as_of,
      total,
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
  if (filter.key !== undefined) qb.andWhere('inv.targetKey = :key', filter);
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
