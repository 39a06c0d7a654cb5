import { Initial1795951862831 } from './1795951862831-initial';

/** Every migration, in order. A new one is generated with scripts/migration-generate.ts. */
export const MIGRATIONS = [Initial1795951862831];
