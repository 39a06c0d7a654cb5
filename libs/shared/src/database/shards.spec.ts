import type { DataSource } from 'typeorm';
import { Shards } from './shards';

describe('Shards', () => {
  const a = { name: 'a' } as unknown as DataSource;
  const b = { name: 'b' } as unknown as DataSource;
  const c = { name: 'c' } as unknown as DataSource;

  it('gives bus partition p to shard p % count', () => {
    const shards = new Shards([a, b, c]);
    expect([0, 1, 2, 3, 4, 5, 15].map((p) => shards.of(p))).toEqual([a, b, c, a, b, c, a]);
    expect(shards.indexOf(16)).toBe(1);
  });

  it('splits items by shard, in shard order, keeping their order within a shard', () => {
    const shards = new Shards([a, b]);
    const items = [3, 0, 5, 2, 1, 4].map((p) => ({ p }));
    expect(shards.split(items, (i) => i.p)).toEqual([
      [a, [{ p: 0 }, { p: 2 }, { p: 4 }]],
      [b, [{ p: 3 }, { p: 5 }, { p: 1 }]],
    ]);
    expect(shards.split([], (i: { p: number }) => i.p)).toEqual([]);
  });

  it('with one shard, everything is in it and nothing is looked up', async () => {
    const shards = new Shards([a]);
    expect(shards.split([{ p: 7 }], (i) => i.p)).toEqual([[a, [{ p: 7 }]]]);
    // No query is made: the data source here has no `query` at all.
    expect(await shards.locate('inv_x')).toBe(a);
  });

  it('refuses an empty list', () => {
    expect(() => new Shards([])).toThrow('at least one shard');
  });
});
