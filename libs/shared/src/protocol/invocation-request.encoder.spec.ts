import { encodeInvocationRequest } from './invocation-request.encoder';

describe('encodeInvocationRequest', () => {
  const base = {
    invocationId: 'inv_1',
    service: 'Counter',
    handler: 'add',
    key: 'k',
    attempt: 1,
    metadata: { 'kafka.offset': '12', 'kafka.topic': 't' },
  };

  it('splits record headers into UTF-8 and raw, with metadata winning', () => {
    const req = encodeInvocationRequest({
      ...base,
      recordHeaders: [
        { key: 'traceparent', value: Buffer.from('00-abc-01') },
        { key: 'bin', value: Uint8Array.of(0xff, 0x00) },
        { key: 'kafka.offset', value: 'forged' },
        { key: 'dup', value: Uint8Array.of(0xfe) },
        { key: 'dup', value: 'last' },
        { key: 'empty', value: null },
      ],
      body: Buffer.from('5'),
    });
    expect(req.headers).toEqual({
      traceparent: '00-abc-01',
      'kafka.offset': '12',
      'kafka.topic': 't',
      dup: 'last',
      empty: '',
    });
    expect(req.rawHeaders).toEqual({ bin: '/wA=' });
    expect(req.body).toBe('NQ==');
    expect(req.state).toBeUndefined();
  });

  it('encodes state for keyed targets and an absent body as empty', () => {
    const req = encodeInvocationRequest({
      ...base,
      body: null,
      state: new Map([['count', Buffer.from('41')]]),
    });
    expect(req.body).toBe('');
    expect(req.state).toEqual({ count: 'NDE=' });
  });
});
