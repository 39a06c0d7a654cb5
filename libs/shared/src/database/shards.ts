import type { DataSource } from 'typeorm';

/**
 * The databases invocations live in (`database.shards`). Bus partition p belongs to shard
 * `p % count`, so everything of one key (its invocations in order, its state, its journal and
 * inbox) is in one database, and an invoker talks only to the shards of the partitions it owns.
 * With one shard (the default) that is `database.url`'s database, which also holds the catalog:
 * deployments, subscriptions and Kafka clusters.
 */
export class Shards {
  constructor(readonly all: readonly DataSource[]) {
    if (all.length === 0) throw new Error('at least one shard is needed');
  }

  get count(): number {
    return this.all.length;
  }

  indexOf(busPartition: number): number {
    return busPartition % this.all.length;
  }

  of(busPartition: number): DataSource {
    return this.all[this.indexOf(busPartition)];
  }

  /** `items` by shard (only the shards that have some), keeping their order within a shard. */
  split<T>(items: readonly T[], busPartitionOf: (item: T) => number): [DataSource, T[]][] {
    if (this.all.length === 1) return items.length === 0 ? [] : [[this.all[0], [...items]]];
    const by = new Map<number, T[]>();
    for (const item of items) {
      const i = this.indexOf(busPartitionOf(item));
      let list = by.get(i);
      if (!list) by.set(i, (list = []));
      list.push(item);
    }
    return [...by].sort((a, b) => a[0] - b[0]).map(([i, list]) => [this.all[i], list]);
  }

  /**
   * The shard holding invocation `id`: the one shard without asking, else the one whose
   * `invocations` has it (all asked at once), or undefined.
   */
  async locate(id: string): Promise<DataSource | undefined> {
    if (this.all.length === 1) return this.all[0];
    const found = await this.each(async (db) => {
      const rows: unknown[] = await db.query(`SELECT 1 FROM invocations WHERE id = $1`, [id]);
      return rows.length > 0;
    });
    const i = found.indexOf(true);
    return i < 0 ? undefined : this.all[i];
  }

  /** Runs `fn` on each shard at once and returns the results in shard order. */
  each<R>(fn: (db: DataSource, index: number) => Promise<R>): Promise<R[]> {
    return Promise.all(this.all.map((db, i) => fn(db, i)));
  }
}
