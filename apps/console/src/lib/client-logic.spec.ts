import { errorMessage, query } from './api';
import { runBulk } from './bulk';
import { asUtf8, decodeBytes, splitHeaders, toHex } from './decode';
import { invocationQuery, isUnfiltered, parseInvocationSearch, parseStatuses } from './filters';
import { maskedKeys, relativeTime, timeline, totalLag } from './format';
import { latestRates, ratesOf } from './history';
import { decodeHeaders, replaySentence, ResetPlan } from './records';
import { newStateFromText, stateAsText } from './state';
import { asInvocationPage } from './dead-letters';
import type { Invocation, InvocationPage } from './types';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('decodeBytes', () => {
  it('pretty-prints JSON, also when the type is unknown or octet-stream', () => {
    for (const type of [undefined, 'application/json', 'application/octet-stream']) {
      expect(decodeBytes(bytes('{"a":[1,2]}'), type)).toEqual({
        kind: 'json',
        text: '{\n  "a": [\n    1,\n    2\n  ]\n}',
      });
    }
  });

  it('shows text as text, also JSON-looking text of another declared type', () => {
    expect(decodeBytes(bytes('hello wörld'))).toEqual({ kind: 'text', text: 'hello wörld' });
    expect(decodeBytes(bytes('{"a":1}'), 'text/plain')).toEqual({ kind: 'text', text: '{"a":1}' });
  });

  it('falls back to hex for invalid UTF-8 and control characters', () => {
    expect(decodeBytes(new Uint8Array([0xff, 0x00, 0x41])).kind).toBe('hex');
    expect(asUtf8(bytes('a\u0001b'))).toBeNull();
    expect(asUtf8(bytes('tab\tand\nnewline'))).toBe('tab\tand\nnewline');
    expect(toHex(new Uint8Array(18).fill(0xab))).toBe(
      `00000000  ${Array(16).fill('ab').join(' ')}\n00000010  ab ab`,
    );
    expect(toHex(new Uint8Array(10), 4)).toBe('00000000  00 00 00 00\n... 6 more bytes');
  });

  it('splits Kafka metadata from the record headers', () => {
    expect(
      splitHeaders({ 'trace-id': 't', 'kafka.topic': 'x', 'restate.subscription.id': 's' }),
    ).toEqual({
      kafka: [
        ['kafka.topic', 'x'],
        ['restate.subscription.id', 's'],
      ],
      record: [['trace-id', 't']],
    });
  });
});

describe('invocation filters', () => {
  it('keeps known statuses in the API order and the text filters, drops the rest', () => {
    expect(parseStatuses('completed,bogus,pending,pending')).toEqual(['pending', 'completed']);
    expect(
      parseInvocationSearch({
        status: 'paused,nope',
        key: 123,
        service: '',
        other: 'x',
        handler: 'h',
      }),
    ).toEqual({ status: 'paused', key: '123', handler: 'h' });
  });

  it('builds the list query without empty values, with paging when asked', () => {
    expect(invocationQuery({ status: 'paused', service: 'A' })).toBe('?status=paused&service=A');
    expect(invocationQuery({}, { cursor: 'c1', limit: 50 })).toBe('?limit=50&cursor=c1');
    expect(query({ a: '', b: null, c: 0 })).toBe('?c=0');
    expect(isUnfiltered({})).toBe(true);
    expect(isUnfiltered({ key: 'k' })).toBe(false);
  });
});

describe('errorMessage', () => {
  it("takes the admin API's message, else a short text body, else the status line", () => {
    expect(errorMessage(404, 'Not Found', '{"message":"no such thing","restate_code":null}')).toBe(
      'no such thing',
    );
    expect(errorMessage(503, 'Service Unavailable', 'console not built\n')).toBe(
      'console not built',
    );
    expect(errorMessage(502, 'Bad Gateway', '')).toBe('502 Bad Gateway');
  });
});

describe('format', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('says how long ago', () => {
    expect(relativeTime('2026-01-01T11:59:30Z', now)).toBe('30s ago');
    expect(relativeTime('2026-01-01T10:00:00Z', now)).toBe('2h ago');
    expect(relativeTime('2026-01-01T12:05:00Z', now)).toBe('in 5m');
    expect(relativeTime(null, now)).toBe('');
  });

  it('sums the known lags; null when no partition has committed', () => {
    const p = (lag: number | null) => ({
      partition: 0,
      committed_offset: lag === null ? null : 0,
      end_offset: 5,
      lag,
      worker: null,
    });
    expect(totalLag([p(2), p(null), p(3)])).toBe(5);
    expect(totalLag([p(null)])).toBeNull();
    expect(maskedKeys({ 'sasl.password': '***', 'client.id': 'x' })).toEqual(['sasl.password']);
  });

  it('orders the timeline and says how the invocation ended', () => {
    const inv = {
      created_at: '2026-01-01T00:00:00Z',
      running_at: '2026-01-01T00:00:01Z',
      completed_at: '2026-01-01T00:00:03Z',
      dead_lettered_at: '2026-01-01T00:00:04Z',
      modified_at: '2026-01-01T00:00:03Z',
      inboxed_at: null,
      scheduled_at: null,
      next_retry_at: null,
      status: 'completed',
      completion_result: 'failure',
      completion_failure: 'boom',
      retry_count: 2,
      last_failure: 'boom',
      last_failure_error_code: 500,
      kafka: { topic: 'orders', partition: 1, offset: '7', timestamp: null },
      dead_letter_topic: 'orders.dlq',
      invoked_by: 'subscription',
      restarted_from: null,
    } as unknown as Invocation;
    expect(timeline(inv).map((e) => [e.label, e.detail])).toEqual([
      ['created', 'from orders/1@7'],
      ['attempt 3 started', '2 earlier attempt(s) failed'],
      ['failed', 'boom'],
      ['dead-lettered', 'to orders.dlq'],
    ]);
  });

  it('shows each failed attempt with its failure, then the pause', () => {
    const inv = {
      created_at: '2026-01-01T00:00:00Z',
      running_at: '2026-01-01T00:00:05Z',
      completed_at: null,
      dead_lettered_at: null,
      modified_at: '2026-01-01T00:00:06Z',
      inboxed_at: null,
      scheduled_at: null,
      next_retry_at: null,
      status: 'paused',
      completion_result: null,
      completion_failure: null,
      retry_count: 2,
      last_failure: 'second',
      last_failure_error_code: 500,
      kafka: null,
      dead_letter_topic: null,
      invoked_by: 'ingress',
      restarted_from: null,
      attempts: [
        {
          attempt: 1,
          started_at: '2026-01-01T00:00:01Z',
          ended_at: '2026-01-01T00:00:02Z',
          error_code: 500,
          failure: 'first',
        },
        {
          attempt: 2,
          started_at: '2026-01-01T00:00:05Z',
          ended_at: '2026-01-01T00:00:06Z',
          error_code: 503,
          failure: 'second',
        },
      ],
    } as unknown as Invocation;
    expect(timeline(inv).map((e) => [e.label, e.detail])).toEqual([
      ['created', 'invoked by ingress'],
      ['attempt 1 started', undefined],
      ['attempt 1 failed', '500 first'],
      ['attempt 2 started', undefined],
      ['attempt 2 failed', '503 second'],
      ['paused after a failure', undefined],
    ]);
  });
});

describe('ratesOf', () => {
  it('gives records in and read per second between samples', () => {
    const { inRate, outRate } = ratesOf([
      { at: 0, lag: 0, end_offset_sum: 10, committed_offset_sum: 10 },
      { at: 2000, lag: 4, end_offset_sum: 20, committed_offset_sum: 16 },
      { at: 4000, lag: null, end_offset_sum: 20, committed_offset_sum: null },
    ]);
    expect(inRate).toEqual([null, 5, 0]);
    expect(outRate).toEqual([null, 3, null]);
  });

  it('gives the latest rates, none before two samples', () => {
    const a = { at: 0, lag: 0, end_offset_sum: 10, committed_offset_sum: 10 };
    const b = { at: 5000, lag: 0, end_offset_sum: 35, committed_offset_sum: 30 };
    expect(latestRates([a])).toEqual({ inRate: null, outRate: null });
    expect(latestRates([a, a, b])).toEqual({ inRate: 5, outRate: 4 });
  });
});

describe('runBulk', () => {
  const page = (ids: string[], next: string | null): InvocationPage => ({
    invocations: ids.map((id) => ({ id }) as Invocation),
    next_cursor: next,
  });

  it('walks every page, counts refusals with their reason, reports progress', async () => {
    const pages: Record<string, InvocationPage> = {
      first: page(['a', 'b', 'c'], 'p2'),
      p2: page(['d'], null),
    };
    const asked: (string | null)[] = [];
    const acted: string[] = [];
    const seen: number[] = [];
    const result = await runBulk({
      listPage: async (cursor) => {
        asked.push(cursor);
        return pages[cursor ?? 'first'];
      },
      act: async (id) => {
        acted.push(id);
        if (id === 'b') throw new Error('already completed');
      },
      onProgress: (p) => seen.push(p.processed),
      cancelled: () => false,
      concurrency: 2,
    });
    expect(asked).toEqual([null, 'p2']);
    expect(acted.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(result).toEqual({
      processed: 4,
      succeeded: 3,
      failed: 1,
      errors: [{ id: 'b', message: 'already completed' }],
      done: true,
    });
    expect(seen).toEqual([1, 2, 3, 4, 4]);
  });

  it('stops when cancelled', async () => {
    let stop = false;
    const result = await runBulk({
      listPage: async () => page(['a', 'b', 'c'], 'more'),
      act: async () => {
        stop = true;
      },
      onProgress: () => undefined,
      cancelled: () => stop,
      concurrency: 1,
    });
    expect(result.processed).toBe(1);
  });
});

describe('records', () => {
  const plan = (over: Partial<ResetPlan>): ResetPlan => ({
    applied: false,
    records_read_again: 0,
    invocations_existing: 0,
    new_invocations: 0,
    records_skipped: 0,
    group_id: 'g',
    partitions: [],
    ...over,
  });

  it('says how many records are read again and which become new invocations', () => {
    expect(
      replaySentence(plan({ records_read_again: 5, invocations_existing: 2, new_invocations: 3 })),
    ).toBe(
      '5 records will be read again. 3 of them become new invocations (their ids are new); 2 still have their invocation and are not run again.',
    );
    expect(replaySentence(plan({ records_skipped: 1 }))).toBe(
      'No record will be read again. 1 record will be skipped (never invoked).',
    );
  });

  it('shows header values as text, or hex when they are not text', () => {
    expect(decodeHeaders({ a: btoa('hello'), b: btoa('\u0000\u00ff') })).toEqual([
      ['a', 'hello'],
      ['b', '00000000  00 ff'],
    ]);
  });
});

describe('state editor', () => {
  const state = (entries: [string, string][]) => ({
    service: 'S',
    key: 'k',
    version: 'v',
    entries: entries.map(([name, value]) => ({ name, value })),
  });

  it('edits text values as a JSON object and encodes them back as UTF-8 bytes', () => {
    expect(stateAsText(state([['count', btoa('41')]]))).toBe('{\n  "count": "41"\n}');
    expect(newStateFromText('{"count": "42", "é": "ü"}')).toEqual({
      count: [52, 50],
      é: [195, 188],
    });
  });

  it('refuses binary values and anything but an object of text values', () => {
    expect(stateAsText(state([['blob', btoa('\u0000\u00ff')]]))).toBeNull();
    expect(() => newStateFromText('[1]')).toThrow('must be a JSON object');
    expect(() => newStateFromText('{"n": 1}')).toThrow("Entry 'n' must be text");
    expect(() => newStateFromText('{')).toThrow('not valid JSON');
  });
});

describe('dead letters', () => {
  it('walk as pages of invocation ids for the bulk re-drive', () => {
    expect(
      asInvocationPage({
        subscription_id: 's',
        total: 1,
        next_cursor: 'c',
        dead_letters: [{ invocation_id: 'inv_1' } as never],
      }),
    ).toEqual({ invocations: [{ id: 'inv_1' }], next_cursor: 'c' });
  });
});
