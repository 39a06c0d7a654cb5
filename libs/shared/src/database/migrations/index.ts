import { Initial1795951862831 } from './1795951862831-initial';
import { InvocationOwnership1795953299938 } from './1795953299938-invocation-ownership';
import { LeanInvocationRows1795962823133 } from './1795962823133-lean-invocation-rows';
import { HeadersAsJsonPausedIndex1795970000000 } from './1795970000000-headers-as-json-paused-index';
import { InvocationJournal1795980000000 } from './1795980000000-invocation-journal';
import { DurableExecution1795990000000 } from './1795990000000-durable-execution';
import { SuspensionIndexes1796000000000 } from './1796000000000-suspension-indexes';
import { ConsoleIndexes1796100000000 } from './1796100000000-console-indexes';
import { KeyDigestIndexes1796200000000 } from './1796200000000-key-digest-indexes';
import { InvocationListing1796300000000 } from './1796300000000-invocation-listing';
import { ShardOutbox1796400000000 } from './1796400000000-shard-outbox';
import { ListingTimeKey1796500000000 } from './1796500000000-listing-time-key';
import { OneOpenIndex1796600000000 } from './1796600000000-one-open-index';
import { RunningByKey1796700000000 } from './1796700000000-running-by-key';

/** Every migration, in order. A new one is generated with scripts/migration-generate.ts. */
export const MIGRATIONS = [
  Initial1795951862831,
  InvocationOwnership1795953299938,
  LeanInvocationRows1795962823133,
  HeadersAsJsonPausedIndex1795970000000,
  InvocationJournal1795980000000,
  DurableExecution1795990000000,
  SuspensionIndexes1796000000000,
  ConsoleIndexes1796100000000,
  KeyDigestIndexes1796200000000,
  InvocationListing1796300000000,
  ShardOutbox1796400000000,
  ListingTimeKey1796500000000,
  OneOpenIndex1796600000000,
  RunningByKey1796700000000,
];
