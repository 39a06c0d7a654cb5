import { seededRandom } from '../../../../test/support/seeded-random';
import { base62, invocationIdForRecord, isIdOfKind, newId, newInvocationId } from './ids';

const random = seededRandom(__filename);

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
    // Pinned: ids already stored must keep matching the records they came from.
    expect(a).toBe('inv_11jMTUIA13DVbml8tgUT1qRH9SnzPcMyqE');
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

describe(`base62 (TEST_SEED=${random.seed})`, () => {
  it('matches the arbitrary-precision conversion', () => {
    const reference = (bytes: Uint8Array, width: number) => {
      const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
      let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
      let out = '';
      while (n > 0n) {
        out = alphabet[Number(n % 62n)] + out;
        n /= 62n;
      }
      return out.padStart(width, '0');
    };
    for (let i = 0; i < 200; i++) {
      const bytes = random.bytes(1 + (i % 24));
      expect(base62(bytes, 33)).toBe(reference(bytes, 33));
    }
    // every length, leading zero bytes, and inputs longer than the scratch space
    for (let length = 0; length <= 120; length++) {
      const bytes = Uint8Array.from({ length }, (_, j) => (j < length % 4 ? 0 : random.int(256)));
      for (const width of [0, 22, 33]) expect(base62(bytes, width)).toBe(reference(bytes, width));
    }
    expect(base62(new Uint8Array(24).fill(255), 33)).toBe(
      reference(new Uint8Array(24).fill(255), 33),
    );
  });
});
