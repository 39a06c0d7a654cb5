import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestSchema, TestSchema } from './support/database';
import { uniqueName, waitFor } from './support/kafka';
import { AppProcess, freePort, startApp } from './support/processes';

const APPS = [
  { app: 'admin-api', bindEnv: 'TRIBUTARY_ADMIN_BIND_ADDRESS' },
  { app: 'consumer-worker', bindEnv: 'TRIBUTARY_WORKER_BIND_ADDRESS' },
  { app: 'invoker', bindEnv: 'TRIBUTARY_INVOKER_BIND_ADDRESS' },
] as const;

describe('each app boots, is ready, and shuts down cleanly on SIGTERM', () => {
  let schema: TestSchema;
  let configFile: string;
  let proc: AppProcess | undefined;

  beforeAll(async () => {
    schema = await createTestSchema('apps');
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-apps-'));
    configFile = path.join(dir, 'tributary.toml');
    writeFileSync(
      configFile,
      [
        '[database]',
        `schema = "${schema.name}"`,
        '[bus]',
        `topic-prefix = "${uniqueName('bus')}"`,
        'partitions = 2',
        '[[ingress.kafka-clusters]]',
        'name = "local"',
        'brokers = ["PLAINTEXT://127.0.0.1:9092"]',
      ].join('\n'),
    );
  });

  afterEach(async () => {
    proc?.kill('SIGKILL');
    await proc?.exited;
    proc = undefined;
  });

  afterAll(async () => {
    await schema.drop();
  });

  it.each(APPS)('$app', async ({ app, bindEnv }) => {
    const port = await freePort();
    proc = startApp(app, ['--config-file', configFile], { [bindEnv]: `127.0.0.1:${port}` });
    const health = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        return res.status === 200 ? await res.json() : undefined;
      },
      `${app} /health to answer 200 (output: ${proc.output()})`,
      60_000,
      250,
    );
    expect(health).toEqual({ status: 'ok', checks: { postgres: 'up', kafka: 'up' } });

    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('SIGTERM received: draining');
  });

  it('a bad configuration stops the process with a message naming each bad key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-badconf-'));
    const bad = path.join(dir, 'bad.toml');
    writeFileSync(bad, '[[ingress.kafka-clusters]]\nbrokers = "not-a-list"\n');
    proc = startApp('invoker', ['--config-file', bad], {});
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('ingress.kafka-clusters[0].name');
    expect(proc.output()).toContain('ingress.kafka-clusters[0].brokers');
  });
});
