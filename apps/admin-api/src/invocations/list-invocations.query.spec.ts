import { AdminError } from '../common/admin-error';
import {
  decodeCursor,
  encodeCursor,
  parseListInvocationsQuery,
  parseTarget,
  parseTimestamp,
} from './list-invocations.query';

const INV = 'inv_1' + 'a'.repeat(33);
const SUB = 'sub_1' + 'B'.repeat(22);

function rejection(fn: () => unknown): AdminError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AdminError) return err;
    throw err;
  }
  throw new Error('expected a 400');
}

describe('parseListInvocationsQuery', () => {
  it('defaults: no filter, 100 per page, first page', () => {
    expect(parseListInvocationsQuery({})).toEqual({ filter: {}, limit: 100, cursor: null });
  });

  it('reads every filter', () => {
    const q = parseListInvocationsQuery({
      status: ['running', 'backing-off,paused'],
      service: 'Counter',
      handler: 'add',
      key: '',
      subscription_id: SUB,
      created_after: '2025-01-31',
      created_before: '2025-02-01T10:00:00.123456+02:00',
      limit: '1000',
      cursor: encodeCursor({ createdAt: '2025-01-31T10:00:00.000001Z', id: INV }),
    });
    expect(q).toEqual({
      filter: {
        statuses: ['running', 'backing-off', 'paused'],
        service: 'Counter',
        handler: 'add',
        key: '',
        subscriptionId: SUB,
        createdAfter: '2025-01-31T00:00:00Z',
        createdBefore: '2025-02-01T10:00:00.123456+02:00',
      },
      limit: 1000,
      cursor: { createdAt: '2025-01-31T10:00:00.000001Z', id: INV },
    });
  });

  it('combines target with matching service/handler/key parameters', () => {
    expect(
      parseListInvocationsQuery({ target: 'Counter/k/add', service: 'Counter' }).filter,
    ).toEqual({ service: 'Counter', key: 'k', handler: 'add' });
  });

  it.each([
    [{ status: 'done' }, "'status'", "unknown status 'done'"],
    [{ status: 'running,' }, "'status'", "unknown status ''"],
    [{ limit: '0' }, "'limit'", 'from 1 to 1000'],
    [{ limit: '1001' }, "'limit'", 'from 1 to 1000'],
    [{ limit: '2.5' }, "'limit'", 'from 1 to 1000'],
    [{ limit: 'ten' }, "'limit'", 'from 1 to 1000'],
    [{ limit: ['1', '2'] }, "'limit'", 'more than once'],
    [{ created_after: 'yesterday' }, "'created_after'", 'not an ISO 8601'],
    [{ created_before: '2025-02-30' }, "'created_before'", 'not a valid date'],
    [{ created_before: '2025-01-31T25:00:00Z' }, "'created_before'", 'not a valid date-time'],
    [{ created_after: '0000-01-01' }, "'created_after'", 'not a valid date'],
    [{ created_after: '0000-12-31T10:00:00Z' }, "'created_after'", 'not a valid date'],
    [{ key: 'a\u0000b' }, "'key'", 'NUL character'],
    [{ target: 'Counter/k\u0000/add' }, "'target'", 'NUL character'],
    [{ cursor: 'nope' }, "'cursor'", 'next_cursor'],
    [{ cursor: encodeCursor({ createdAt: 'x', id: INV }) }, "'cursor'", 'next_cursor'],
    [{ subscription_id: 'sub_x' }, "'subscription_id'", 'not a subscription id'],
    [{ target: '/add' }, "'target'", 'non-empty'],
    [{ target: 'Counter/' }, "'target'", 'non-empty'],
    [{ target: 'Counter/add', handler: 'get' }, "'handler'", 'contradicts'],
    [{ service: '' }, "'service'", 'must not be empty'],
    [{ service: { a: '1' } }, "'service'", 'plain string'],
  ])('rejects %j naming the parameter', (query, name, reason) => {
    const err = rejection(() => parseListInvocationsQuery(query));
    expect(err.status).toBe(400);
    expect(err.message).toContain(`The query parameter ${name} is invalid`);
    expect(err.message).toContain(reason);
  });

  it('rejects an unknown parameter, listing the known ones', () => {
    const err = rejection(() => parseListInvocationsQuery({ state: 'running' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain("Unknown query parameter 'state'");
    expect(err.message).toContain('subscription_id');
  });
});

describe('parseTarget', () => {
  it.each([
    ['Greeter', { service: 'Greeter', handler: undefined, key: undefined }],
    ['Greeter/greet', { service: 'Greeter', handler: 'greet', key: undefined }],
    ['Counter/k1/add', { service: 'Counter', handler: 'add', key: 'k1' }],
    ['Counter//add', { service: 'Counter', handler: 'add', key: '' }],
    ['Counter/a/b/c/add', { service: 'Counter', handler: 'add', key: 'a/b/c' }],
  ])('%s', (target, expected) => {
    expect(parseTarget(target)).toEqual(expected);
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2025-01-31', '2025-01-31T00:00:00Z'],
    ['2025-01-31T10:00', '2025-01-31T10:00Z'],
    ['2025-01-31T10:00:00.5', '2025-01-31T10:00:00.5Z'],
    ['2025-01-31T10:00:00-0530', '2025-01-31T10:00:00-0530'],
    // An unencoded '+' reaches us as a space.
    ['2025-01-31T10:00:00 02:00', '2025-01-31T10:00:00+02:00'],
  ])('%s → %s', (given, expected) => {
    expect(parseTimestamp('created_after', given)).toBe(expected);
  });
});

describe('cursor', () => {
  it('round-trips and is opaque', () => {
    const cursor = { createdAt: '2025-01-31T10:00:00.000001Z', id: INV };
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });
});
