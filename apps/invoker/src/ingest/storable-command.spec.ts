import type { InvocationCommand } from '@tributary/shared';
import { isDataError } from './command.ingestor';
import { failedCommand, storableCommand } from './storable-command';

const command = (over: Partial<InvocationCommand> = {}): InvocationCommand => ({
  type: 'invoke',
  v: 1,
  id: 'inv_1',
  subscriptionId: 'sub_1',
  target: {
    service: 'Counter',
    handler: 'add',
    key: 'bob',
    serviceTy: 'VIRTUAL_OBJECT',
    handlerTy: 'EXCLUSIVE',
  },
  record: { topic: 'orders', partition: 0, offset: '7', timestamp: '1700000000000', key: 'Ym9i' },
  headers: { h: 'v' },
  rawHeaders: {},
  body: Buffer.from('{"n":1}'),
  failure: null,
  retryPolicy: null,
  deadLetterTopic: null,
  ...over,
});

describe('storableCommand', () => {
  it('keeps a command whose text fields Postgres can hold, headers with NUL bytes included', () => {
    const c = command({ headers: { 'a\u0000b': 'c\u0000d' } });
    expect(storableCommand(c)).toBe(c);
  });

  it.each([
    ['key', { target: { ...command().target, key: 'b\u0000ob' } }],
    ['target service', { target: { ...command().target, service: 'Count\u0000er' } }],
    ['subscription id', { subscriptionId: 'sub\u0000' }],
    ['dead-letter topic', { deadLetterTopic: 'dlt\u0000' }],
    ['failure', { failure: 'bad \u0000' }],
    ['retry policy', { retryPolicy: { 'max\u0000': 1 } }],
  ] as [string, Partial<InvocationCommand>][])(
    'fails a command whose %s holds U+0000, naming it, with nothing left that Postgres refuses',
    (field, over) => {
      const stored = storableCommand(command(over));
      expect(stored.failure).toBe(
        `the invocation command's ${field} contains U+0000 (a NUL byte), which cannot be stored; the record was not delivered`,
      );
      const text = JSON.stringify({ ...stored, body: null, headers: null, rawHeaders: null });
      expect(text).not.toContain('\\u0000');
      expect(stored.body).toEqual(Buffer.from('{"n":1}'));
      expect(stored.headers).toEqual({ h: 'v' });
      expect(stored.retryPolicy).toBeNull();
    },
  );
});

describe('failedCommand', () => {
  it('drops the headers, keeps the body for a dead-letter topic, and cleans the key', () => {
    const failed = failedCommand(
      command({ headers: { a: 'b' }, target: { ...command().target, key: 'x\u0000' } }),
      'refused',
    );
    expect(failed).toMatchObject({ failure: 'refused', headers: {}, rawHeaders: {} });
    expect(failed.target.key).toBe('x\uFFFD');
    expect(failed.body).toEqual(Buffer.from('{"n":1}'));
  });
});

describe('isDataError', () => {
  it.each([
    ['22021', true], // invalid byte sequence
    ['22P05', true], // untranslatable character
    ['54000', true], // index row too large
    ['08006', false], // connection failure: retry the batch
    ['57P01', false], // admin shutdown
    [undefined, false],
  ])('%s -> %s', (code, expected) => {
    expect(isDataError(Object.assign(new Error('x'), { code }))).toBe(expected);
  });
});
