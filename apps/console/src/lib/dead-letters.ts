import type { Invocation, InvocationPage } from './types';

/** `GET /subscriptions/{id}/dead-letters`. */
export interface DeadLetter {
  invocation_id: string;
  target: string;
  failure: string | null;
  error_code: number | null;
  retry_count: number;
  completed_at: string | null;
  dead_lettered_at: string | null;
  dead_letter_topic: string;
  kafka: { topic: string; partition: number; offset: string } | null;
}

export interface DeadLetterPage {
  subscription_id: string;
  total: number;
  dead_letters: DeadLetter[];
  next_cursor: string | null;
}

/** A dead-letter page as the bulk runner walks pages of invocations (it needs only the ids). */
export function asInvocationPage(page: DeadLetterPage): InvocationPage {
  return {
    invocations: page.dead_letters.map((d) => ({ id: d.invocation_id }) as Invocation),
    next_cursor: page.next_cursor,
  };
}
