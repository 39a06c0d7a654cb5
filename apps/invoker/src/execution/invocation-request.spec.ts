import { checkJsonInput, invocationRequest, withChanges } from './invocation-request';
import type { ClaimedInvocation } from './invocation.store';

const claimed: ClaimedInvocation = {
  id: 'inv_1',
  busPartition: 0,
  epoch: 1,
  service: 'Counter',
  handler: 'add',
  key: 'bob',
  exclusive: true,
  serviceTy: 'VIRTUAL_OBJECT',
  input: Buffer.from('{"n":1}'),
  headers: { 'kafka.offset': '7' },
  rawHeaders: { bin: '/w==' },
  retryCount: 2,
  retryPolicy: null,
  deadLetterTopic: null,
  handlerTy: 'EXCLUSIVE',
  callerId: null,
  callerCompletionId: null,
  journalRetryBase: 0,
};

describe('invocationRequest', () => {
  it('carries the attempt, the body as base64, headers and the key state', () => {
    const r = invocationRequest(claimed, 3, 'application/json', new Map([['n', Buffer.from('5')]]));
    expect(r).toEqual({
      invocationId: 'inv_1',
      service: 'Counter',
      handler: 'add',
      key: 'bob',
      attempt: 3,
      headers: { 'kafka.offset': '7' },
      rawHeaders: { bin: '/w==' },
      body: Buffer.from('{"n":1}').toString('base64'),
      contentType: 'application/json',
      state: { n: Buffer.from('5').toString('base64') },
    });
  });

  it('sends no state to a service, and an empty body for a null value', () => {
    const r = invocationRequest(
      { ...claimed, serviceTy: 'SERVICE', input: null },
      1,
      null,
      undefined,
    );
    expect(r.state).toBeUndefined();
    expect(r.contentType).toBeUndefined();
    expect(r.body).toBe('');
  });
});

describe('invocationRequest with tracing', () => {
  it("puts the handler call's trace headers in place of the stored ones, leaving the stored ones as they are", () => {
    const stored = { ...claimed, headers: { 'kafka.offset': '7', traceparent: '00-aa-bb-01' } };
    const call = { traceparent: '00-aa-cc-01', tracestate: 'v=1' };
    const r = invocationRequest(stored, 1, null, undefined, call);
    expect(r.headers).toEqual({
      'kafka.offset': '7',
      traceparent: '00-aa-cc-01',
      tracestate: 'v=1',
    });
    expect(stored.headers.traceparent).toBe('00-aa-bb-01');
    // Tracing off: the stored headers object itself, nothing copied.
    expect(invocationRequest(stored, 1, null, undefined, undefined).headers).toBe(stored.headers);
  });
});

describe('checkJsonInput', () => {
  it.each([
    ['application/json', '{"a":1}', undefined],
    ['application/json', '', undefined], // empty: the handler gets undefined
    ['application/octet-stream', 'not json', undefined],
    [null, 'not json', undefined],
  ])('%s %j -> fine', (ct, body, expected) => {
    expect(checkJsonInput(ct, Buffer.from(body))).toBe(expected);
  });

  it('refuses JSON that does not parse, and bytes that are not UTF-8', () => {
    expect(checkJsonInput('application/json', Buffer.from('{'))).toMatch(
      /^Cannot deserialize the input as JSON: /,
    );
    expect(checkJsonInput('application/json', Buffer.from([0xff, 0x7b]))).toContain(
      'not valid for encoding utf-8',
    );
  });
});

describe('withChanges', () => {
  const before = new Map([
    ['a', Buffer.from('1')],
    ['b', Buffer.from('2')],
  ]);
  it('sets and clears names', () => {
    const after = withChanges(before, {
      set: new Map([['c', Buffer.from('3')]]),
      clear: ['a'],
      clearAll: false,
    });
    expect([...after.keys()].sort()).toEqual(['b', 'c']);
    expect(before.has('a')).toBe(true); // the state before is not changed
  });

  it('clears everything before setting', () => {
    const after = withChanges(before, {
      set: new Map([['c', Buffer.from('3')]]),
      clear: [],
      clearAll: true,
    });
    expect([...after.keys()]).toEqual(['c']);
  });
});
