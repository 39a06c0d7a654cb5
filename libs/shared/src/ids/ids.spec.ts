import { base62, invocationIdForRecord, isIdOfKind, newId, newInvocationId } from './ids';

describe('ids', () => {
  it('encodes base62 with padding', () => {
    expect(base62(Uint8Array.from([0]), 3)).toBe('000');
    expect(base62(Uint8Array.from([61]), 1)).toBe('z');
    expect(base62(Uint8Array.from([62]), 2)).toBe('10');
  });

  it('makes Restate-shaped subscription and deployment ids', () => {
    const sub = newId('sub');
    expect(sub).toMatch(/^sub_1[0-9A-Za-z]{22}$/);
    expect(sub).toHaveLength(27);
    expect(isIdOfKind('sub', sub)).toBe(true);
    expect(isIdOfKind('dp', newId('dp'))).toBe(true);
    expect(newId('sub')).not.toBe(sub);
  });

  it('derives the same invocation id from the same record coordinates', () => {
    const a = invocationIdForRecord('sub_1', 'orders', 3, '42');
    expect(a).toBe(invocationIdForRecord('sub_1', 'orders', 3, '42'));
    expect(isIdOfKind('inv', a)).toBe(true);
    expect(a).not.toBe(invocationIdForRecord('sub_1', 'orders', 3, '43'));
    expect(a).not.toBe(invocationIdForRecord('sub_1', 'orders', 4, '42'));
    expect(a).not.toBe(invocationIdForRecord('sub_2', 'orders', 3, '42'));
    // separators keep ("a", "b1") and ("a b", "1") apart
    expect(invocationIdForRecord('s', 'ab', 1, '0')).not.toBe(
      invocationIdForRecord('s', 'a', 11, '0'),
    );
  });

  it('makes random invocation ids of the same shape', () => {
    expect(isIdOfKind('inv', newInvocationId())).toBe(true);
  });
});
