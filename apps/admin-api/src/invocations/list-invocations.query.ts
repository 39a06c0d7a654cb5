import { INVOCATION_STATUSES, InvocationStatus, isIdOfKind } from '@tributary/shared';
import { AdminError } from '../common/admin-error';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Exact-match filters of `GET /invocations`, ANDed. Timestamps are ISO 8601 text for Postgres. */
export interface InvocationFilter {
  statuses?: InvocationStatus[];
  service?: string;
  handler?: string;
  key?: string;
  subscriptionId?: string;
  createdAfter?: string;
  createdBefore?: string;
}

/**
 * Where the next page starts: strictly after this (created_at, id) in newest-first order.
 * `createdAt` keeps Postgres' microseconds, which a JS Date would round away.
 */
export interface InvocationCursor {
  createdAt: string;
  id: string;
}

export interface ListInvocationsQuery {
  filter: InvocationFilter;
  limit: number;
  cursor: InvocationCursor | null;
}

const PARAMETERS = [
  'status',
  'target',
  'service',
  'handler',
  'key',
  'subscription_id',
  'created_after',
  'created_before',
  'limit',
  'cursor',
] as const;
type Parameter = (typeof PARAMETERS)[number];

const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/;
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function invalid(name: string, reason: string): AdminError {
  return AdminError.badRequest(`The query parameter '${name}' is invalid. Reason: ${reason}`);
}

/** The values of a parameter; Express gives an array when it is repeated. */
function values(query: Record<string, unknown>, name: Parameter): string[] {
  const raw = query[name];
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (!list.every((v): v is string => typeof v === 'string')) {
    throw invalid(name, 'expected a plain string value');
  }
  // No name, key or id holds one, and Postgres refuses it in a query.
  if (list.some((v) => v.includes('\0'))) throw invalid(name, 'contains a NUL character (%00)');
  return list;
}

function single(query: Record<string, unknown>, name: Parameter): string | undefined {
  const list = values(query, name);
  if (list.length > 1) throw invalid(name, 'given more than once; give it once');
  return list[0];
}

function nonEmpty(query: Record<string, unknown>, name: Parameter): string | undefined {
  const value = single(query, name);
  if (value === '') throw invalid(name, 'must not be empty');
  return value;
}

function parseStatuses(query: Record<string, unknown>): InvocationStatus[] | undefined {
  const given = values(query, 'status').flatMap((v) => v.split(','));
  if (given.length === 0) return undefined;
  for (const status of given) {
    if (!(INVOCATION_STATUSES as readonly string[]).includes(status)) {
      throw invalid(
        'status',
        `unknown status '${status}'; expected one of ${INVOCATION_STATUSES.join(', ')} (several separated by commas)`,
      );
    }
  }
  return [...new Set(given as InvocationStatus[])];
}

/**
 * ISO 8601 date or date-time; UTC when it names no offset. A `+` in an unencoded query string
 * arrives as a space, so `...T10:00:00 02:00` is read as `+02:00`.
 */
export function parseTimestamp(name: string, value: string): string {
  const text = value.includes('T') ? value.replace(/ (\d{2}:?\d{2})$/, '+$1') : value;
  if (!ISO_8601.test(text)) {
    throw invalid(
      name,
      `'${value}' is not an ISO 8601 date or date-time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z`,
    );
  }
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  const calendar = new Date(Date.UTC(y, m - 1, d));
  // There is no year 0: ISO 8601 would make it 1 BC, Postgres refuses it.
  if (y === 0 || calendar.getUTCMonth() !== m - 1 || calendar.getUTCDate() !== d) {
    throw invalid(name, `'${value}' is not a valid date`);
  }
  if (!text.includes('T')) return `${text}T00:00:00Z`;
  const normalized = HAS_OFFSET.test(text) ? text : `${text}Z`;
  if (Number.isNaN(new Date(normalized).getTime())) {
    throw invalid(name, `'${value}' is not a valid date-time`);
  }
  return normalized;
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  const limit = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) {
    throw invalid('limit', `expected an integer from 1 to ${MAX_PAGE_SIZE}, got '${value}'`);
  }
  return limit;
}

export function encodeCursor(cursor: InvocationCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

export function decodeCursor(value: string): InvocationCursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    Array.isArray(decoded) &&
    decoded.length === 2 &&
    typeof decoded[0] === 'string' &&
    typeof decoded[1] === 'string' &&
    CURSOR_TIME.test(decoded[0]) &&
    isIdOfKind('inv', decoded[1])
  ) {
    return { createdAt: decoded[0], id: decoded[1] };
  }
  throw invalid(
    'cursor',
    'not a cursor returned as next_cursor by GET /invocations; list again without it',
  );
}

/**
 * `Service`, `Service/handler` or `Service/key/handler` (Restate's `target`); a key may itself
 * hold slashes, so everything between the first and the last slash is the key.
 */
export function parseTarget(target: string): { service: string; handler?: string; key?: string } {
  const parts = target.split('/');
  const service = parts[0];
  const handler = parts.length > 1 ? parts[parts.length - 1] : undefined;
  if (service === '' || handler === '') {
    throw invalid(
      'target',
      `'${target}' must be Service, Service/handler or Service/key/handler, with non-empty service and handler names`,
    );
  }
  const key = parts.length > 2 ? parts.slice(1, -1).join('/') : undefined;
  return { service, handler, key };
}

/** Sets a filter field, refusing a second, different value from another parameter. */
function merge(
  filter: InvocationFilter,
  field: 'service' | 'handler' | 'key',
  value: string | undefined,
  from: string,
): void {
  if (value === undefined) return;
  const current = filter[field];
  if (current !== undefined && current !== value) {
    throw invalid(from, `${field} '${value}' contradicts ${field} '${current}' given in 'target'`);
  }
  filter[field] = value;
}

/** The query of `GET /invocations`; every bad value is a 400 naming its parameter. */
export function parseListInvocationsQuery(query: Record<string, unknown>): ListInvocationsQuery {
  for (const name of Object.keys(query)) {
    if (!(PARAMETERS as readonly string[]).includes(name)) {
      throw AdminError.badRequest(
        `Unknown query parameter '${name}'. Known parameters: ${PARAMETERS.join(', ')}`,
      );
    }
  }
  const filter: InvocationFilter = {};
  const statuses = parseStatuses(query);
  if (statuses) filter.statuses = statuses;
  const target = single(query, 'target');
  if (target !== undefined) Object.assign(filter, stripUndefined(parseTarget(target)));
  merge(filter, 'service', nonEmpty(query, 'service'), 'service');
  merge(filter, 'handler', nonEmpty(query, 'handler'), 'handler');
  merge(filter, 'key', single(query, 'key'), 'key');
  const subscriptionId = single(query, 'subscription_id');
  if (subscriptionId !== undefined) {
    if (!isIdOfKind('sub', subscriptionId)) {
      throw invalid(
        'subscription_id',
        `'${subscriptionId}' is not a subscription id ('sub_' followed by 23 letters and digits)`,
      );
    }
    filter.subscriptionId = subscriptionId;
  }
  const after = single(query, 'created_after');
  if (after !== undefined) filter.createdAfter = parseTimestamp('created_after', after);
  const before = single(query, 'created_before');
  if (before !== undefined) filter.createdBefore = parseTimestamp('created_before', before);
  const cursor = single(query, 'cursor');
  return {
    filter,
    limit: parseLimit(single(query, 'limit')),
    cursor: cursor === undefined ? null : decodeCursor(cursor),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
