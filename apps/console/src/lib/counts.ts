import type { InvocationStatus } from './types';

/** `GET /invocation-counts`: how many invocations a filter matches, by status. */
export interface InvocationCounts {
  /** The admin API's clock when it counted; a bulk action freezes its set with it. */
  as_of: string;
  total: number;
  by_status: Record<InvocationStatus, number>;
  by_subscription: SubscriptionCounts[];
}

export interface SubscriptionCounts {
  subscription_id: string;
  by_status: Record<InvocationStatus, number>;
  /** Invocations that ended in the minute before `as_of`. */
  last_minute: { completed: number; failed: number; dead_lettered: number };
}
