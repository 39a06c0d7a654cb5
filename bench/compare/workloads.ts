/** The handler services every system registers; the same names and logic on each. */
export const SERVICES = {
  /** Virtual object, exclusive handler: increments a counter in the key's state. */
  object: 'BenchObject',
  /** Service (unkeyed) handler: parses the record and returns. */
  service: 'BenchService',
  /** Virtual object, exclusive handler: sleeps 0-5 ms, then increments the key's counter. */
  sleepy: 'BenchSleepyObject',
} as const;

export const HANDLER = 'handle';

export type SinkKind = keyof typeof SERVICES;

export type WorkloadName = 'S1' | 'S1-restate-sdk' | 'S2' | 'S3';

/** What Tributary's handler process is written with (the other systems' never change). */
export type TributaryHandler = 'tributary-sdk' | 'restate-sdk';

export interface Workload {
  name: WorkloadName;
  description: string;
  /** Records measured (before `--quick` scaling). */
  records: number;
  recordBytes: number;
  keys: number;
  partitions: number;
  sink: SinkKind;
  /** Also a paced run at `pacedRate` records/s for `pacedSeconds` on each system. */
  paced?: { rate: number; seconds: number; quickSeconds: number };
  /**
   * Tributary's handler process: `procs/tributary-handler.ts` (@tributary/sdk, the default) or
   * `procs/restate-handler.ts`, the very process the Restate system runs (@restatedev/restate-sdk,
   * which Tributary discovers and invokes over Restate's service protocol).
   */
  tributaryHandler?: TributaryHandler;
}

export const WORKLOADS: Record<WorkloadName, Workload> = {
  S1: {
    name: 'S1',
    description:
      'keyed: 100,000 records of 1 KiB, 1,000 keys, 8 partitions -> virtual object (counter in state); plus a paced run at 1,000 records/s',
    records: 100_000,
    recordBytes: 1024,
    keys: 1_000,
    partitions: 8,
    sink: 'object',
    paced: { rate: 1_000, seconds: 30, quickSeconds: 3 },
  },
  'S1-restate-sdk': {
    name: 'S1-restate-sdk',
    description:
      "S1 with Tributary running the Restate SDK handler (restate-handler.ts, Restate's service protocol) that the Restate server runs",
    records: 100_000,
    recordBytes: 1024,
    keys: 1_000,
    partitions: 8,
    sink: 'object',
    paced: { rate: 1_000, seconds: 30, quickSeconds: 3 },
    tributaryHandler: 'restate-sdk',
  },
  S2: {
    name: 'S2',
    description: 'unkeyed: the same 100,000 records of 1 KiB, 8 partitions -> service handler',
    records: 100_000,
    recordBytes: 1024,
    keys: 1_000,
    partitions: 8,
    sink: 'service',
  },
  S3: {
    name: 'S3',
    description:
      'key-parallel: 10,000 records of 1 KiB, 100 keys, 1 partition -> virtual object sleeping 0-5 ms',
    records: 10_000,
    recordBytes: 1024,
    keys: 100,
    partitions: 1,
    sink: 'sleepy',
  },
};
