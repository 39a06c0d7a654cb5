import { InvokeOutcome, JSON_CONTENT_TYPE } from '@tributary/shared';
import type { Finish } from '../scheduling/invocation.scheduler';
import type { AttemptResult, ClaimedInvocation } from './invocation.store';
import { decideRetry, RetryPolicy } from './retry-policy';

/** Why a request in flight was aborted. */
export type AbortReason = 'kill' | 'cancel' | 'pause' | 'lease' | 'shutdown';

/** How an attempt ended, as the `tributary_invoker_attempts_total` metric counts it. */
export type AttemptKind = 'success' | 'terminal' | 'retryable' | 'aborted' | 'suspended';

/** What to write for one attempt, and what the scheduler does with the invocation next. */
export interface AttemptEnd {
  result: AttemptResult;
  finish: Finish;
  kind: AttemptKind;
}

export interface Attempt {
  invocation: Pick<
    ClaimedInvocation,
    | 'id'
    | 'busPartition'
    | 'epoch'
    | 'exclusive'
    | 'service'
    | 'key'
    | 'retryCount'
    | 'deadLetterTopic'
  >;
  /** 1-based: the attempt that just ended. */
  attempt: number;
  outcome: InvokeOutcome | 'aborted';
  /** Set when the invoker aborted the request itself. */
  abortReason?: AbortReason;
  /** The retry policy in force: configuration, manifest and subscription, resolved. */
  policy: RetryPolicy;
  now: number;
}

export const KILLED_MESSAGE = 'Invocation killed through the admin API';
export const CANCELED_MESSAGE = 'Invocation canceled through the admin API';

/**
 * The end of an attempt as a new status. Pure: success and terminal failures complete the
 * invocation; a retryable failure backs off (by the handler's own delay when it gave one, else
 * the policy's), or, out of attempts, does what `on-max-attempts` says (pause, kill,
 * dead-letter); an abort by the admin API completes it (kill, cancel) or pauses it; an abort for
 * a lost lease or a shutdown hands it back without counting an attempt.
 */
export function attemptEnd({
  invocation: c,
  attempt,
  outcome,
  abortReason,
  policy,
  now,
}: Attempt): AttemptEnd {
  const base: AttemptResult = {
    id: c.id,
    busPartition: c.busPartition,
    epoch: c.epoch,
    status: 'completed',
    completionResult: null,
    output: null,
    outputContentType: null,
    completionFailure: null,
    lastFailure: null,
    lastFailureCode: null,
    retryCount: c.retryCount,
    nextRetryAt: null,
    state: null,
  };
  const done: Finish = { kind: 'done' };
  if (outcome === 'aborted') {
    switch (abortReason) {
      case 'kill':
      case 'cancel': {
        const message = abortReason === 'kill' ? KILLED_MESSAGE : CANCELED_MESSAGE;
        const result: AttemptResult = {
          ...base,
          completionResult: 'failure',
          completionFailure: message,
          lastFailure: message,
          lastFailureCode: 409,
        };
        return { result, finish: done, kind: 'aborted' };
      }
      case 'pause':
        return {
          result: { ...base, status: 'paused' },
          finish: { kind: 'paused' },
          kind: 'aborted',
        };
      case 'lease':
      case 'shutdown':
      case undefined: {
        // Handed back unfinished: not an attempt that failed, so no retry is counted.
        const status = c.exclusive ? 'pending' : 'ready';
        return {
          result: { ...base, status },
          finish: { kind: 'again', status, dueAt: 0 },
          kind: 'aborted',
        };
      }
    }
  }
  if (outcome.kind === 'suspended') {
    // Waiting, not failed: the journal holds what it did so far; state changes come at the end.
    const dueAt = outcome.wakeAt ?? Infinity;
    const result: AttemptResult = {
      ...base,
      status: 'suspended',
      nextRetryAt: outcome.wakeAt === null ? null : new Date(outcome.wakeAt),
    };
    return { result, finish: { kind: 'again', status: 'suspended', dueAt }, kind: 'suspended' };
  }
  // State changes are kept for exclusive handlers only: shared ones may read, not write.
  const state =
    c.exclusive && outcome.state
      ? { service: c.service, key: c.key, changes: outcome.state }
      : null;
  if (outcome.kind === 'success') {
    const result: AttemptResult = {
      ...base,
      completionResult: 'success',
      output: outcome.output,
      outputContentType: outcome.contentType ?? JSON_CONTENT_TYPE,
      state,
    };
    return { result, finish: done, kind: 'success' };
  }
  const failed = { ...base, lastFailure: outcome.message, lastFailureCode: outcome.code };
  if (outcome.terminal) {
    const result: AttemptResult = {
      ...failed,
      completionResult: 'failure',
      completionFailure: outcome.message,
      state,
    };
    return { result, finish: done, kind: 'terminal' };
  }
  const decision = decideRetry(policy, attempt);
  switch (decision.kind) {
    case 'retry': {
      // The handler's own delay, when it gave one, replaces the policy's for this retry.
      const dueAt = now + (outcome.retryAfterMs ?? decision.delayMs);
      const result: AttemptResult = {
        ...failed,
        status: 'backing-off',
        retryCount: attempt,
        nextRetryAt: new Date(dueAt),
      };
      return { result, finish: { kind: 'again', status: 'backing-off', dueAt }, kind: 'retryable' };
    }
    case 'pause':
      return {
        result: { ...failed, status: 'paused', retryCount: attempt },
        finish: { kind: 'paused' },
        kind: 'retryable',
      };
    case 'kill':
    case 'dead-letter': {
      // Failed either way; a failed invocation's record goes to its dead-letter topic, if any.
      const noTopic = decision.kind === 'dead-letter' && !c.deadLetterTopic;
      const why = noTopic
        ? '; on-max-attempts is "dead-letter" but the subscription has no dead-letter topic'
        : '';
      const result: AttemptResult = {
        ...failed,
        retryCount: attempt,
        completionResult: 'failure',
        completionFailure: `${outcome.message} (gave up after ${attempt} attempts${why})`,
      };
      return { result, finish: done, kind: 'retryable' };
    }
  }
}
