// The official Restate CLI (npm @restatedev/restate, the version in package.json) against
// Tributary's admin API: scripts and tools written for Restate's admin API must work unchanged.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { RunningEndpoint } from '@tributary/sdk';
import { startExampleEndpoint } from '../examples/handlers/example.endpoint';
import { AdminTestApp, startAdminApi } from './support/admin-app';
import { uniqueName } from './support/kafka';
import { ROOT } from './support/processes';

const CLI = path.join(ROOT, 'node_modules/.bin/restate');

interface CliResult {
  code: number;
  out: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

describe('the official Restate CLI against Tributary', () => {
  let t: AdminTestApp;
  let endpoint: RunningEndpoint;
  let adminUrl: string;
  let home: string;

  /** Runs `restate <args>`, never prompting, with a clean config home; resolves on any exit. */
  function restate(...args: string[]): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      execFile(
        CLI,
        ['--yes', ...args],
        {
          timeout: 30_000,
          env: {
            PATH: process.env.PATH,
            HOME: home,
            XDG_CONFIG_HOME: home,
            RESTATE_ADMIN_URL: adminUrl,
            NO_COLOR: '1',
          },
        },
        (err, stdout, stderr) => {
          const out = `${stdout}${stderr}`.replace(ANSI, '');
          if (err && typeof err.code !== 'number') {
            reject(new Error(`could not run ${CLI}: ${err.message}`));
          } else resolve({ code: err ? (err.code as number) : 0, out });
        },
      );
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const { code, out } = await restate(...args);
    if (code !== 0) throw new Error(`restate ${args.join(' ')} exited ${code}:\n${out}`);
    return out;
  }

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'restate-cli-'));
    t = await startAdminApi('restate_cli');
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    adminUrl = `http://127.0.0.1:${port}`;
    endpoint = await startExampleEndpoint({ port: 0 });
  });

  afterAll(async () => {
    await endpoint?.close();
    await t?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('registers a deployment, lists Kafka clusters, and creates, lists, describes and deletes subscriptions', async () => {
    const registered = await ok('deployments', 'register', endpoint.url);
    expect(registered).toMatch(/Deployment ID:\s+dp_/);
    expect(registered).toContain('Counter');
    const services = await request(t.http).get('/services').expect(200);
    expect(services.body.services.map((s: { name: string }) => s.name)).toContain('Counter');

    const clusters = await ok('kafka-clusters', 'list');
    expect(clusters).toMatch(/local\s+127\.0\.0\.1:9092/);

    const topic = uniqueName('cli');
    const source = `kafka://local/${topic}`;
    const created = await ok(
      'subscriptions',
      'create',
      source,
      'service://Counter/add',
      'auto.offset.reset=earliest',
      'sasl.password=hunter2',
    );
    const id = /Subscription (sub_[0-9A-Za-z]{23}) created/.exec(created)?.[1];
    expect(id).toBeDefined();
    const stored = await request(t.http).get(`/subscriptions/${id}`).expect(200);
    expect(stored.body).toMatchObject({
      source,
      sink: 'service://Counter/add',
      options: {
        'auto.offset.reset': 'earliest',
        'sasl.password': '***',
        'group.id': id,
        'client.id': 'restate',
      },
    });

    const listed = await ok('subscriptions', 'list');
    expect(listed).toMatch(new RegExp(`${id}\\s+${source}\\s+service://Counter/add`));
    expect(await ok('subscriptions', 'list', '--sink', 'service://Counter/add')).toContain(id);
    expect(await ok('subscriptions', 'list', '--sink', 'service://Counter/get')).not.toContain(id);

    const described = await ok('subscriptions', 'describe', id!);
    expect(described).toContain(id);
    expect(described).toContain(source);
    expect(described).toMatch(/group\.id\s+sub_/);
    expect(described).toMatch(/client\.id\s+restate/);
    expect(described).toMatch(/sasl\.password\s+\*\*\*/);
    expect(described).not.toContain('hunter2');

    expect(await ok('subscriptions', 'delete', id!)).toContain(`Subscription ${id} deleted`);
    await request(t.http).get(`/subscriptions/${id}`).expect(404);
    const gone = await restate('subscriptions', 'describe', id!);
    expect(gone.code).not.toBe(0);
    expect(gone.out).toContain(`The requested subscription '${id}' does not exist`);
  });

  it("shows Tributary's validation messages", async () => {
    const unknownCluster = await restate(
      'subscriptions',
      'create',
      'kafka://nope/orders',
      'service://Counter/add',
    );
    expect(unknownCluster.code).not.toBe(0);
    expect(unknownCluster.out).toContain(`Kafka cluster 'nope' not found. Available clusters: [`);

    const unknownOption = await restate(
      'subscriptions',
      'create',
      `kafka://local/${uniqueName('cli')}`,
      'service://Counter/add',
      'no.such.option=1',
    );
    expect(unknownOption.code).not.toBe(0);
    expect(unknownOption.out).toContain("unknown option 'no.such.option'");
  });
});
