import type { InvocationStatus } from './types';

/** `GET /invocation-counts`: how many invocations a filter matches, by status. */
export interface InvocationCounts {
  /** The admin API's clock when it counted; a bulk action freezes its set with it. */
  as_of: string;
  /** Completed invocations are counted up to this many. */
  cap: number;
  /** The completed ones reached `cap`: their count and the total are "at least". */
  capped: boolean;
  total: number;
  by_status: Record<InvocationStatus, number>;
  by_subscription: SubscriptionCounts[];
}

export interface SubscriptionCounts {
  subscription_id: string;
  /** Its open (not completed) invocations by status. */
  open: Record<Exclude<InvocationStatus, 'completed'>, number>;
  /** Invocations that ended in the minute before `as_of`. */
  last_minute: { completed: number; failed: number; dead_lettered: number };
}

/** A count as the console shows it: `10000+` when it reached the cap. */
export function countText(n: number, capped: boolean): string {
  return capped ? `${n}+` : String(n);
}
