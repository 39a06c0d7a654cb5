import { randomInt } from 'node:crypto';
import { basename } from 'node:path';

/**
 * Reproducible randomness for tests that draw their inputs. The seed comes from `TEST_SEED` (an
 * integer from 0 to 2^32 - 1) or, without it, is drawn fresh; it is printed once per test file and
 * belongs in the name of the file's describe block, so a failure shows it:
 *
 *   const random = seededRandom(__filename);
 *   describe(`my thing (TEST_SEED=${random.seed})`, () => { ... random.int(10) ... });
 *
 * and `TEST_SEED=<seed> npx jest <file>` replays it. The generator restarts from the seed before
 * every test of the file, so a test draws the same inputs whether it runs alone (`-t`) or with the
 * others.
 */
export interface SeededRandom {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, max). */
  int(max: number): number;
  pick<T>(options: readonly T[]): T;
  bytes(length: number): Buffer;
  /** Starts the sequence again from the seed (done before each test). */
  reset(): void;
}

export function testSeed(): number {
  const raw = process.env.TEST_SEED;
  if (raw === undefined || raw === '') return randomInt(2 ** 32);
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(`TEST_SEED must be an integer from 0 to ${2 ** 32 - 1}, not '${raw}'`);
  }
  return seed;
}

/** A generator for one test file (`file`, for the printed line), restarted before each test. */
export function seededRandom(file: string): SeededRandom {
  const random = seededRandomFrom(testSeed());
  process.stdout.write(`${basename(file)}: TEST_SEED=${random.seed}\n`);
  beforeEach(() => random.reset());
  return random;
}

/** mulberry32: 32 bits of state, a full period of 2^32, plenty for drawing test inputs. */
export function seededRandomFrom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => next32() / 2 ** 32;
  const int = (max: number): number => Math.floor(next() * max);
  return {
    seed: seed >>> 0,
    next,
    int,
    pick: <T>(options: readonly T[]): T => options[int(options.length)],
    bytes(length: number): Buffer {
      const buf = Buffer.allocUnsafe(length);
      let i = 0;
      for (; i + 4 <= length; i += 4) buf.writeUInt32LE(next32(), i);
      if (i < length) {
        const last = next32();
        for (let j = 0; i < length; i++, j++) buf[i] = (last >>> (8 * j)) & 0xff;
      }
      return buf;
    },
    reset(): void {
      state = seed >>> 0;
    },
  };
}
