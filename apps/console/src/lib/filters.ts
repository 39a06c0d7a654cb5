import { query } from './api';
import { INVOCATION_STATUSES, InvocationStatus } from './types';

/** The invocation list's filters, as the page's URL carries them (`/ui/invocations?status=...`). */
export interface InvocationSearch {
  status?: string;
  service?: string;
  handler?: string;
  key?: string;
  subscription_id?: string;
  created_after?: string;
  created_before?: string;
}

export const FILTER_FIELDS = [
  'service',
  'handler',
  'key',
  'subscription_id',
  'created_after',
  'created_before',
] as const;

/** Statuses from a comma-separated list, known ones only, each once, in the API's order. */
export function parseStatuses(value: string | undefined): InvocationStatus[] {
  const given = new Set((value ?? '').split(',').map((s) => s.trim()));
  return INVOCATION_STATUSES.filter((s) => given.has(s));
}

/** The URL's search parameters, keeping only the filters the list understands. */
export function parseInvocationSearch(raw: Record<string, unknown>): InvocationSearch {
  const out: InvocationSearch = {};
  const statuses = parseStatuses(typeof raw.status === 'string' ? raw.status : undefined);
  if (statuses.length > 0) out.status = statuses.join(',');
  for (const field of FILTER_FIELDS) {
    const v = raw[field];
    // The router parses `?key=123` as a number; keys and names are text.
    if (typeof v === 'string' && v !== '') out[field] = v;
    else if (typeof v === 'number') out[field] = String(v);
  }
  return out;
}

/**
 * A date-time input's local value (`2026-12-03T17:05`) as ISO 8601 UTC for the API; empty stays
 * undefined, anything else is passed on for the API to judge.
 */
export function toApiTime(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? local : new Date(ms).toISOString();
}

/** The query string of `GET /invocations` (and `/invocation-counts` without limit/cursor). */
export function invocationQuery(
  search: InvocationSearch,
  page?: { cursor?: string | null; limit?: number },
): string {
  return query({
    status: search.status,
    service: search.service,
    handler: search.handler,
    key: search.key,
    subscription_id: search.subscription_id,
    created_after: search.created_after,
    created_before: search.created_before,
    limit: page?.limit,
    cursor: page?.cursor,
  });
}

/** True when no filter is set: a bulk action would hit every invocation. */
export function isUnfiltered(search: InvocationSearch): boolean {
  return Object.values(search).every((v) => v === undefined || v === '');
}
