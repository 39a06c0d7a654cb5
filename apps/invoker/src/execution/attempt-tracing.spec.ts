import { tracing } from '@tributary/shared';
import { traceAttempt } from './attempt-tracing';
import type { ClaimedInvocation } from './invocation.store';

const invocation: ClaimedInvocation = {
  id: 'inv_1',
  busPartition: 0,
  epoch: 1,
  service: 'S',
  handler: 'h',
  key: '',
  exclusive: false,
  serviceTy: 'SERVICE',
  handlerTy: null,
  input: null,
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  rawHeaders: null,
  retryCount: 0,
  retryPolicy: null,
  deadLetterTopic: null,
  callerId: null,
  callerCompletionId: null,
  journalRetryBase: 0,
};

describe('traceAttempt with tracing off', () => {
  it('is one shared no-op: no span, no headers, the handler headers passed through as they are', () => {
    expect(tracing.on).toBe(false);
    const a = traceAttempt(invocation, 1);
    const b = traceAttempt(invocation, 2);
    // Nothing is allocated per attempt: the same object every time.
    expect(a).toBe(b);
    expect(a.callHeaders('tributary')).toBeUndefined();
    const extra = { 'x-extra': '1' };
    expect(a.withHeaders(extra)).toBe(extra);
    expect(a.withHeaders(undefined)).toBeUndefined();
  });
});
