import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_BROKERS } from './kafka';

/**
 * A TOML config for spawned Tributary processes: own schema, own bus topics, the local broker (or
 * `brokers`: the `local` cluster's, which the bus defaults to).
 */
export function writeBenchConfig(opts: {
  dir: string;
  schema: string;
  busPrefix: string;
  busPartitions: number;
  extra?: string[];
  brokers?: string[];
  /** `database.shards`, when the invocations are spread over several databases. */
  shards?: string[];
}): string {
  const brokers = opts.brokers ?? BENCH_BROKERS;
  const file = path.join(opts.dir, 'tributary.toml');
  writeFileSync(
    file,
    [
      '[database]',
      `schema = "${opts.schema}"`,
      ...(opts.shards ? [`shards = [${opts.shards.map((u) => `"${u}"`).join(', ')}]`] : []),
      '[bus]',
      `topic-prefix = "${opts.busPrefix}"`,
      `partitions = ${opts.busPartitions}`,
      ...(opts.extra ?? []),
      '[[ingress.kafka-clusters]]',
      'name = "local"',
      `brokers = [${brokers.map((b) => `"PLAINTEXT://${b}"`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  return file;
}
