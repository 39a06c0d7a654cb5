import { isExclusive, keyOf, mayStart, orderingKey, Startable } from './ordering';

describe('the ordering rule: which invocations hold their key', () => {
  it.each([
    ['SERVICE', null, false],
    ['VIRTUAL_OBJECT', 'EXCLUSIVE', true],
    ['VIRTUAL_OBJECT', null, true], // a handler without a type is exclusive, as in Restate
    ['VIRTUAL_OBJECT', 'SHARED', false],
    ['WORKFLOW', 'WORKFLOW', true],
    ['WORKFLOW', 'SHARED', false],
  ] as const)('%s %s -> exclusive %s', (serviceTy, handlerTy, expected) => {
    expect(isExclusive(serviceTy, handlerTy)).toBe(expected);
  });

  it('keys the bus by (service, key) for keyed commands and by invocation id otherwise', () => {
    expect(orderingKey('Counter', 'bob', 'inv_1', true)).toBe(keyOf('Counter', 'bob'));
    expect(orderingKey('Counter', 'bob', 'inv_1', false)).toBe('inv_1');
    expect(keyOf('a', 'b/c')).not.toBe(keyOf('a/b', 'c'));
  });
});

describe('mayStart (the rule in memory)', () => {
  const now = 1_000;
  const inv = (over: Partial<Startable> = {}): Startable => ({
    id: 'me',
    exclusive: true,
    status: 'pending',
    dueAt: 0,
    ...over,
  });

  it.each([
    // exclusive: only as the head of its key, or as the first of an idle key
    ['exclusive, idle key', inv(), undefined, true],
    ['exclusive, head of its key', inv(), 'me', true],
    ['exclusive, an older one open', inv(), 'older', false],
    ['exclusive, head but paused', inv({ status: 'paused' }), 'me', false],
    [
      'exclusive, head but backing off',
      inv({ status: 'backing-off', dueAt: now + 1 }),
      'me',
      false,
    ],
    [
      'exclusive, head, backing off and due',
      inv({ status: 'backing-off', dueAt: now }),
      'me',
      true,
    ],
    // shared handlers and services: whenever due, whatever their key does
    ['shared, an older one open', inv({ exclusive: false }), 'older', true],
    ['service', inv({ exclusive: false }), undefined, true],
    ['shared, paused', inv({ exclusive: false, status: 'paused' }), undefined, false],
    ['shared, not due', inv({ exclusive: false, dueAt: now + 1 }), undefined, false],
  ] as [string, Startable, string | undefined, boolean][])('%s -> %s', (_, i, head, expected) => {
    expect(mayStart(i, head, now)).toBe(expected);
  });
});
