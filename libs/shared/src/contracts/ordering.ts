/**
 * The ordering rule, in one place. Exclusive invocations (virtual object exclusive handlers and
 * workflow `run`) of one (service, key) run one at a time, in arrival (`seq`) order: one may run
 * only when no older invocation of its key is still open (a paused one included, as in Restate)
 * and no other one of its key is running under a live lease. Everything else (services, shared
 * handlers) runs as soon as it is due.
 *
 * Every path that starts an invocation applies this rule through this module: the scheduler and
 * the ingestor in memory (`mayStart`), and insert-as-running, claim and handover in Postgres
 * (`mayRunSql`), under the key's advisory lock (`lockKeys` in the invoker's store).
 */
import type { HandlerType, ServiceType } from '../protocol/protocol.types';

/** True when at most one invocation per key may run: VO exclusive handlers and workflow `run`. */
export function isExclusive(serviceTy: ServiceType, handlerTy: HandlerType | null): boolean {
  if (serviceTy === 'SERVICE') return false;
  return handlerTy === 'EXCLUSIVE' || handlerTy === 'WORKFLOW' || handlerTy === null;
}

/** One string per (service, key), for maps kept in memory. Keys never hold U+0000. */
export function keyOf(service: string, key: string): string {
  return `${service}\u0000${key}`;
}

/** The bus key: every message for one object/workflow key lands on one partition, in order. */
export function orderingKey(
  service: string,
  key: string,
  invocationId: string,
  keyed: boolean,
): string {
  return keyed ? keyOf(service, key) : invocationId;
}

/** What the in-memory rule needs of an open invocation. */
export interface Startable {
  id: string;
  exclusive: boolean;
  status: string;
  /** Epoch ms when it may run next; 0 = now. */
  dueAt: number;
}

/**
 * Whether `inv` may start now. `keyHead` is the id of the oldest open invocation of its key that
 * this process knows of (undefined when it knows of none): an exclusive invocation may start only
 * as that head, or as the first of an idle key. Postgres checks again with `mayRunSql`.
 */
export function mayStart(inv: Startable, keyHead: string | undefined, now: number): boolean {
  if (inv.status === 'paused' || inv.dueAt > now) return false;
  return !inv.exclusive || keyHead === undefined || keyHead === inv.id;
}

/** SQL expressions naming the columns of the row the rule is checked for. */
export interface OrderingColumns {
  exclusive: string;
  service: string;
  key: string;
  id: string;
  /** Its `seq`; null for a row being inserted, which comes after every row of its key. */
  seq: string | null;
}

/**
 * The rule as a SQL condition on one row of `invocations` (or one about to be inserted): true
 * when it is not exclusive, or no other open invocation of its key is older than it or running
 * under a live lease. Run it holding the key's advisory lock, so no other transaction changes
 * the key's rows between the check and the write.
 *
 * Two `NOT EXISTS`, so each stops at its first row: an older open row is found by a `seq` range
 * on the key's open rows (`IDX_invocations_open`), a running one by the running exclusive rows of
 * the key (`IDX_invocations_running`, at most one in the usual case). One `NOT EXISTS` with an
 * `OR` of the two read the key's whole open queue on every claim.
 */
export function mayRunSql(r: OrderingColumns): string {
  const older = r.seq === null ? '' : `AND o.seq < ${r.seq}`;
  return `(NOT ${r.exclusive} OR (NOT EXISTS (
    SELECT 1 FROM invocations o
     WHERE o.target_service = ${r.service} AND o.target_key = ${r.key} ${older}
       AND o.status <> 'completed' AND o.exclusive AND o.id <> ${r.id})
  AND NOT EXISTS (
    SELECT 1 FROM invocations o
     WHERE o.target_service = ${r.service} AND o.target_key = ${r.key}
       AND o.exclusive AND o.status = 'running' AND o.id <> ${r.id}
       AND o.lease_expires_at >= now())))`;
}
