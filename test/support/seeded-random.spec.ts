import { seededRandomFrom, testSeed } from './seeded-random';

describe('seeded random', () => {
  const saved = process.env.TEST_SEED;
  afterEach(() => {
    if (saved === undefined) delete process.env.TEST_SEED;
    else process.env.TEST_SEED = saved;
  });

  it('draws the same sequence from the same seed, and again after reset', () => {
    const draw = (r: ReturnType<typeof seededRandomFrom>) => [
      r.next(),
      r.int(1000),
      r.pick(['a', 'b', 'c', 'd']),
      r.bytes(7).toString('hex'),
    ];
    const a = seededRandomFrom(42);
    const first = draw(a);
    expect(draw(seededRandomFrom(42))).toEqual(first);
    expect(draw(a)).not.toEqual(first);
    a.reset();
    expect(draw(a)).toEqual(first);
    expect(draw(seededRandomFrom(43))).not.toEqual(first);
  });

  it('pins mulberry32 so a printed seed replays the same inputs in later versions', () => {
    const r = seededRandomFrom(1);
    expect([r.next(), r.next(), r.next()]).toEqual([
      expect.closeTo(0.6270739405881613, 15),
      expect.closeTo(0.002735721180215478, 15),
      expect.closeTo(0.5274470399599522, 15),
    ]);
  });

  it('stays in range: next in [0, 1), int below max, bytes of the asked length', () => {
    const r = seededRandomFrom(7);
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      expect(r.int(3)).toBeLessThan(3);
    }
    for (let length = 0; length < 10; length++) expect(r.bytes(length)).toHaveLength(length);
  });

  it('takes the seed from TEST_SEED and refuses one that is not a 32-bit unsigned integer', () => {
    process.env.TEST_SEED = '123456';
    expect(testSeed()).toBe(123456);
    for (const bad of ['-1', '1.5', 'abc', String(2 ** 32)]) {
      process.env.TEST_SEED = bad;
      expect(() => testSeed()).toThrow(/TEST_SEED must be an integer/);
    }
    delete process.env.TEST_SEED;
    expect(Number.isInteger(testSeed())).toBe(true);
  });
});
