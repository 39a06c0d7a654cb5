import type { FailedAttempt, Invocation, PartitionStatus } from './types';

/** "3s ago", "5m ago", "2h ago", "4d ago" from `now`; "in 3s" for a time ahead. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1000);
  const abs = Math.abs(seconds);
  const [n, unit] =
    abs < 60
      ? [abs, 's']
      : abs < 3600
        ? [Math.floor(abs / 60), 'm']
        : abs < 86400
          ? [Math.floor(abs / 3600), 'h']
          : [Math.floor(abs / 86400), 'd'];
  return seconds >= 0 ? `${n}${unit} ago` : `in ${n}${unit}`;
}

/** Summed lag over partitions; null when no partition has committed (lag unknown). */
export function totalLag(partitions: PartitionStatus[]): number | null {
  const known = partitions.filter((p) => p.lag !== null);
  return known.length === 0 ? null : known.reduce((sum, p) => sum + (p.lag ?? 0), 0);
}

export interface TimelineEvent {
  at: string;
  label: string;
  detail?: string;
  tone: 'info' | 'ok' | 'warn' | 'error';
}

/**
 * What happened to an invocation, oldest first, from the times the admin API returns: created,
 * inboxed, scheduled, each attempt that failed (started, failed with its error), the attempt
 * under way or the last one, a pause, the next retry, completion and dead-lettering. Invocations
 * from before failed attempts were stored one by one have only `retry_count` for the earlier ones.
 */
export function timeline(inv: Invocation & { attempts?: FailedAttempt[] }): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  const add = (at: string | null, e: Omit<TimelineEvent, 'at'>) => {
    if (at) events.push({ at, ...e });
  };
  add(inv.created_at, {
    label: 'created',
    tone: 'info',
    detail: inv.kafka
      ? `from ${inv.kafka.topic}/${inv.kafka.partition}@${inv.kafka.offset}`
      : inv.restarted_from
        ? `restarted from ${inv.restarted_from}`
        : `invoked by ${inv.invoked_by}`,
  });
  add(inv.inboxed_at, { label: 'inboxed', tone: 'info', detail: 'waiting for its key' });
  add(inv.scheduled_at, { label: 'scheduled', tone: 'info' });
  const attempts = inv.attempts ?? [];
  for (const a of attempts) {
    add(a.started_at, { label: `attempt ${a.attempt} started`, tone: 'info' });
    add(a.ended_at, {
      label: `attempt ${a.attempt} failed`,
      tone: 'error',
      detail: `${a.error_code ?? ''} ${a.failure}`.trim(),
    });
  }
  const last = attempts[attempts.length - 1];
  // The latest claim, unless it is the failed attempt listed last (then nothing ran since).
  if (inv.running_at && inv.running_at !== last?.started_at) {
    const earlier = Math.max(inv.retry_count, attempts.length);
    add(inv.running_at, {
      label: `attempt ${earlier + 1} started`,
      tone: 'info',
      detail:
        attempts.length === 0 && inv.retry_count > 0
          ? `${inv.retry_count} earlier attempt(s) failed`
          : undefined,
    });
  }
  if (inv.status === 'paused') {
    add(inv.modified_at, {
      label: last || inv.last_failure ? 'paused after a failure' : 'paused',
      tone: 'warn',
      detail:
        attempts.length === 0 && inv.last_failure
          ? `${inv.last_failure_error_code ?? ''} ${inv.last_failure}`.trim()
          : undefined,
    });
  } else if (inv.last_failure && inv.status !== 'completed' && attempts.length === 0) {
    add(inv.modified_at, {
      label: 'attempt failed',
      tone: 'error',
      detail: `${inv.last_failure_error_code ?? ''} ${inv.last_failure}`.trim(),
    });
  } else if (inv.status === 'suspended') {
    add(inv.modified_at, {
      label: 'suspended',
      tone: 'info',
      detail: 'waiting for a timer, a call or an awakeable',
    });
  }
  if (inv.status === 'backing-off') {
    add(inv.next_retry_at, { label: 'next retry', tone: 'warn' });
  }
  add(inv.completed_at, {
    label: inv.completion_result === 'success' ? 'completed' : 'failed',
    tone: inv.completion_result === 'success' ? 'ok' : 'error',
    detail: inv.completion_failure ?? undefined,
  });
  add(inv.dead_lettered_at, {
    label: 'dead-lettered',
    tone: 'error',
    detail: inv.dead_letter_topic ? `to ${inv.dead_letter_topic}` : undefined,
  });
  return events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** A masked value as the admin API masks secrets. */
export const MASK = '***';

/** Option keys whose value the admin API masked. */
export function maskedKeys(options: Record<string, string>): string[] {
  return Object.keys(options).filter((k) => options[k] === MASK);
}
