import type { InvokeOutcome } from '@tributary/shared';
import { Attempt, attemptEnd, CANCELED_MESSAGE, KILLED_MESSAGE } from './attempt-outcome';
import type { RetryPolicy } from './retry-policy';

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  initialIntervalMs: 500,
  exponentiationFactor: 2,
  maxIntervalMs: 60_000,
  maxAttempts: 3,
  onMaxAttempts: 'pause',
  ...over,
});

const NOW = 1_700_000_000_000;
const state = { set: new Map([['n', Buffer.from('1')]]), clear: [], clearAll: false };

function end(over: Partial<Attempt> & { exclusive?: boolean; deadLetterTopic?: string | null }) {
  const { exclusive = true, deadLetterTopic = null, ...rest } = over;
  return attemptEnd({
    invocation: {
      id: 'inv_1',
      busPartition: 0,
      epoch: 4,
      exclusive,
      service: 'Counter',
      key: 'bob',
      retryCount: 0,
      deadLetterTopic,
    },
    attempt: 1,
    outcome: { kind: 'success', output: Buffer.from('1'), state },
    policy: policy(),
    now: NOW,
    ...rest,
  });
}

const retryable: InvokeOutcome = { kind: 'failure', terminal: false, code: 500, message: 'boom' };

describe('attemptEnd: outcome to status', () => {
  it('success completes, with output, JSON by default, and the state changes of an exclusive handler', () => {
    const e = end({});
    expect(e.kind).toBe('success');
    expect(e.finish).toEqual({ kind: 'done' });
    expect(e.result).toMatchObject({
      id: 'inv_1',
      busPartition: 0,
      epoch: 4,
      status: 'completed',
      completionResult: 'success',
      outputContentType: 'application/json',
      state: { service: 'Counter', key: 'bob', changes: state },
    });
  });

  it('a shared handler writes no state', () => {
    expect(end({ exclusive: false }).result.state).toBeNull();
  });

  it('a terminal failure completes as failed at once, its state applied', () => {
    const e = end({
      outcome: { kind: 'failure', terminal: true, code: 400, message: 'bad', state },
    });
    expect(e.kind).toBe('terminal');
    expect(e.result).toMatchObject({
      status: 'completed',
      completionResult: 'failure',
      completionFailure: 'bad',
      lastFailure: 'bad',
      lastFailureCode: 400,
      retryCount: 0,
    });
    expect(e.result.state).not.toBeNull();
  });

  it('a retryable failure backs off with the policy delay and counts the attempt', () => {
    const e = end({ outcome: retryable, attempt: 2 });
    expect(e.kind).toBe('retryable');
    expect(e.finish).toEqual({ kind: 'again', status: 'backing-off', dueAt: NOW + 1_000 });
    expect(e.result).toMatchObject({
      status: 'backing-off',
      retryCount: 2,
      nextRetryAt: new Date(NOW + 1_000),
      lastFailure: 'boom',
      completionResult: null,
      state: null,
    });
  });

  it("a retryable failure with the handler's own delay backs off that long, not the policy's", () => {
    const e = end({ outcome: { ...retryable, retryAfterMs: 60_000 }, attempt: 1 });
    expect(e.finish).toEqual({ kind: 'again', status: 'backing-off', dueAt: NOW + 60_000 });
    // Out of attempts, the delay changes nothing: on-max-attempts applies.
    const last = end({ outcome: { ...retryable, retryAfterMs: 60_000 }, attempt: 3 });
    expect(last.result.status).toBe('paused');
  });

  it.each([
    ['pause', null, 'paused', null, undefined],
    ['pause', 'dlq', 'paused', null, undefined], // a dead-letter topic does not turn pause into kill
    ['kill', null, 'completed', 'failure', 'boom (gave up after 3 attempts)'],
    ['dead-letter', 'dlq', 'completed', 'failure', 'boom (gave up after 3 attempts)'],
    [
      'dead-letter',
      null,
      'completed',
      'failure',
      'boom (gave up after 3 attempts; on-max-attempts is "dead-letter" but the subscription has no dead-letter topic)',
    ],
  ] as const)(
    'out of attempts with on-max-attempts %s and dead-letter topic %s: %s %s',
    (onMaxAttempts, deadLetterTopic, status, result, failure) => {
      const e = end({
        outcome: retryable,
        attempt: 3,
        policy: policy({ onMaxAttempts }),
        deadLetterTopic,
      });
      expect(e.result.status).toBe(status);
      expect(e.result.completionResult).toBe(result);
      expect(e.result.retryCount).toBe(3);
      if (failure) expect(e.result.completionFailure).toBe(failure);
      expect(e.finish).toEqual(status === 'paused' ? { kind: 'paused' } : { kind: 'done' });
    },
  );

  it.each([
    ['kill', KILLED_MESSAGE],
    ['cancel', CANCELED_MESSAGE],
  ] as const)('an abort by %s completes it as failed (409)', (reason, message) => {
    const e = end({ outcome: 'aborted', abortReason: reason });
    expect(e.kind).toBe('aborted');
    expect(e.result).toMatchObject({
      status: 'completed',
      completionResult: 'failure',
      completionFailure: message,
      lastFailureCode: 409,
    });
  });

  it('an abort by pause pauses it without counting an attempt', () => {
    const e = end({ outcome: 'aborted', abortReason: 'pause' });
    expect(e.result).toMatchObject({ status: 'paused', retryCount: 0 });
    expect(e.finish).toEqual({ kind: 'paused' });
  });

  it.each(['lease', 'shutdown', undefined] as const)(
    'an abort for %s hands it back to run again at once, no attempt counted',
    (reason) => {
      expect(end({ outcome: 'aborted', abortReason: reason }).finish).toEqual({
        kind: 'again',
        status: 'pending',
        dueAt: 0,
      });
      const shared = end({ outcome: 'aborted', abortReason: reason, exclusive: false });
      expect(shared.result).toMatchObject({ status: 'ready', retryCount: 0 });
    },
  );
});
