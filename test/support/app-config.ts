import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Writes a TOML config for spawned apps: own schema, own bus topics, the local cluster. */
export function writeTestConfig(opts: {
  schema: string;
  busPrefix: string;
  extra?: string[];
}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-conf-'));
  const file = path.join(dir, 'tributary.toml');
  writeFileSync(
    file,
    [
      '[database]',
      `schema = "${opts.schema}"`,
      '[bus]',
      `topic-prefix = "${opts.busPrefix}"`,
      'partitions = 4',
      ...(opts.extra ?? []),
      '[[ingress.kafka-clusters]]',
      'name = "local"',
      'brokers = ["PLAINTEXT://127.0.0.1:9092"]',
    ].join('\n'),
  );
  return file;
}
