import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Writes a TOML config for spawned apps: own schema, own bus topics, the local cluster (the
 * single broker unless `brokers` names others; the bus uses the same brokers).
 */
export function writeTestConfig(opts: {
  schema: string;
  busPrefix: string;
  busPartitions?: number;
  brokers?: string[];
  /** `database.shards`: the databases invocations are spread over. */
  shards?: string[];
  extra?: string[];
}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-conf-'));
  const file = path.join(dir, 'tributary.toml');
  writeFileSync(
    file,
    [
      '[database]',
      `schema = "${opts.schema}"`,
      ...(opts.shards ? [`shards = [${opts.shards.map((u) => `"${u}"`).join(', ')}]`] : []),
      '[bus]',
      `topic-prefix = "${opts.busPrefix}"`,
      `partitions = ${opts.busPartitions ?? 4}`,
      ...(opts.extra ?? []),
      '[[ingress.kafka-clusters]]',
      'name = "local"',
      `brokers = [${(opts.brokers ?? ['127.0.0.1:9092']).map((b) => `"PLAINTEXT://${b}"`).join(', ')}]`,
    ].join('\n'),
  );
  return file;
}
