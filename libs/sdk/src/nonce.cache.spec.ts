import { NonceCache } from './nonce.cache';

const WINDOW = 5 * 60 * 1000;
const T0 = 1_700_000_000_000;

describe('NonceCache', () => {
  it('claims a nonce once; the same nonce again is a replay', () => {
    const cache = new NonceCache(10, WINDOW);
    expect(cache.claim('a'.repeat(32), T0, T0)).toBe('fresh');
    expect(cache.claim('a'.repeat(32), T0, T0 + 1000)).toBe('replayed');
    expect(cache.claim('b'.repeat(32), T0, T0 + 1000)).toBe('fresh');
    expect(cache.size).toBe(2);
  });

  it('is full at maxEntries within the window, and has room again once they expire', () => {
    const cache = new NonceCache(2, WINDOW);
    expect(cache.claim('n1', T0, T0)).toBe('fresh');
    expect(cache.claim('n2', T0 + 10, T0 + 10)).toBe('fresh');
    expect(cache.claim('n3', T0 + 20, T0 + 2000)).toBe('full');
    expect(cache.size).toBe(2);
    // n1 and n2 leave once their timestamps are out of the window (a replay would be stale).
    expect(cache.claim('n3', T0 + WINDOW, T0 + WINDOW + 11)).toBe('fresh');
    expect(cache.size).toBe(1);
  });

  it('keeps a nonce for the window after its timestamp, even one from a clock ahead', () => {
    const cache = new NonceCache(10, WINDOW);
    const ahead = T0 + 4 * 60 * 1000;
    expect(cache.claim('early', ahead, T0)).toBe('fresh');
    expect(cache.claim('other', T0, T0 + WINDOW + 1000)).toBe('fresh');
    expect(cache.claim('early', ahead, T0 + WINDOW + 2000)).toBe('replayed');
  });
});
