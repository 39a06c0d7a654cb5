export * from './data-source';
export * from './entities';
export * from './migrate';
export * from './database.module';
export * from './query-result';
export * from './inbox';
export * from './shards';
