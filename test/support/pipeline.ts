import { DataSource } from 'typeorm';
import { busTopics } from '../../libs/shared/src/contracts/topics';
import { writeTestConfig } from './app-config';
import { createDataSource } from '../../libs/shared/src/database/data-source';
import { createTestSchema, TEST_DATABASE_URL, TestSchema } from './database';
import { uniqueName, waitFor } from './kafka';
import { AppProcess, freePort, startApp } from './processes';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests check response fields one by one
type AdminBody = any;

export interface AdminResponse {
  status: number;
  body: AdminBody;
}

/** Calls an admin API at `adminUrl`; resolves with status and parsed body (the text if not JSON). */
export async function adminCall(
  adminUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<AdminResponse> {
  const res = await fetch(`${adminUrl}${path}`, {
    // A call that never settles would hang its test: give up after 30 s.
    signal: AbortSignal.timeout(30_000),
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

export interface PipelineApp {
  name: string;
  process: AppProcess;
  url: string;
}

/**
 * The three apps as separate processes on one Postgres schema and one set of bus topics: what a
 * deployment runs, at test scale.
 */
export class Pipeline {
  readonly apps: PipelineApp[] = [];
  schema!: TestSchema;
  ds!: DataSource;
  /** With `shards`: each shard's schema, the first being `schema` (database.url's). */
  shardSchemas: TestSchema[] = [];
  /** With `shards`: a data source on each shard, in `database.shards` order. */
  shardDs: DataSource[] = [];
  configFile!: string;
  busPrefix!: string;
  adminUrl!: string;
  /** Set when this drives a stack started elsewhere (`attach`): `stop` leaves it running. */
  attached = false;

  /**
   * A stack already running, such as `npm run dev`'s: its admin API at `adminUrl`, its database
   * (DATABASE_URL, or the default one), its default schema. Nothing is started or stopped.
   */
  static async attach(adminUrl: string): Promise<Pipeline> {
    const p = new Pipeline();
    p.attached = true;
    p.adminUrl = adminUrl.replace(/\/$/, '');
    p.ds = createDataSource({ url: TEST_DATABASE_URL, poolSize: 2 });
    await p.ds.initialize();
    await waitFor(
      async () => (await fetch(`${p.adminUrl}/health`)).ok,
      `the admin API at ${p.adminUrl} (is the stack running?)`,
      30_000,
      500,
    );
    return p;
  }

  static async start(
    label: string,
    opts: {
      invokers?: number;
      workers?: number;
      /** Brokers of the `local` cluster and of the bus; the single local broker by default. */
      brokers?: string[];
      busPartitions?: number;
      /** `database.shards`; the first is expected to be TEST_DATABASE_URL (the catalog's). */
      shards?: string[];
      extraConfig?: string[];
    } = {},
  ): Promise<Pipeline> {
    const p = new Pipeline();
    p.schema = await createTestSchema(label);
    p.ds = await p.schema.migrated();
    for (const url of opts.shards ?? []) {
      const s = url === p.schema.url ? p.schema : await createTestSchema(label, url, p.schema.name);
      p.shardSchemas.push(s);
      p.shardDs.push(s === p.schema ? p.ds : await s.migrated());
    }
    p.busPrefix = uniqueName('bus');
    p.configFile = writeTestConfig({
      schema: p.schema.name,
      busPrefix: p.busPrefix,
      busPartitions: opts.busPartitions,
      brokers: opts.brokers,
      shards: opts.shards,
      extra: opts.extraConfig,
    });
    const admin = await p.startApp('admin-api', 'TRIBUTARY_ADMIN_BIND_ADDRESS');
    p.adminUrl = admin.url;
    await Promise.all([
      ...Array.from({ length: opts.workers ?? 1 }, (_, i) =>
        p.startApp('consumer-worker', 'TRIBUTARY_WORKER_BIND_ADDRESS', {
          TRIBUTARY_WORKER_ID: `worker-${i}`,
        }),
      ),
      ...Array.from({ length: opts.invokers ?? 1 }, (_, i) =>
        p.startApp('invoker', 'TRIBUTARY_INVOKER_BIND_ADDRESS', {
          TRIBUTARY_INVOKER_ID: `invoker-${i}`,
        }),
      ),
    ]);
    return p;
  }

  get busTopic(): string {
    return busTopics(this.busPrefix).invocations;
  }

  async startApp(
    app: string,
    bindEnv: string,
    env: Record<string, string> = {},
  ): Promise<PipelineApp> {
    const port = await freePort();
    const proc = startApp(app, ['--config-file', this.configFile], {
      [bindEnv]: `127.0.0.1:${port}`,
      ...env,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${url}/health`)).ok,
      `${app} to be ready (output: ${proc.output().slice(-2000)})`,
      60_000,
      200,
    );
    const entry = {
      name: env.TRIBUTARY_INVOKER_ID ?? env.TRIBUTARY_WORKER_ID ?? app,
      process: proc,
      url,
    };
    this.apps.push(entry);
    return entry;
  }

  app(name: string): PipelineApp {
    const found = this.apps.find((a) => a.name === name);
    if (!found) throw new Error(`no app ${name}`);
    return found;
  }

  /** Calls the admin API; resolves with status and parsed body. */
  admin(method: string, path: string, body?: unknown): Promise<AdminResponse> {
    return adminCall(this.adminUrl, method, path, body);
  }

  /** The last lines each app printed, for failure messages. */
  outputs(): string {
    if (this.attached)
      return `(a stack started elsewhere, admin API ${this.adminUrl}: see its own output)`;
    return this.apps.map((a) => `--- ${a.name}\n${a.process.output().slice(-3000)}`).join('\n');
  }

  async stop(): Promise<void> {
    if (this.attached) {
      await this.ds.destroy();
      return;
    }
    for (const a of this.apps) a.process.kill('SIGTERM');
    await Promise.all(
      this.apps.map(async (a) => {
        const timer = setTimeout(() => a.process.kill('SIGKILL'), 20_000);
        await a.process.exited;
        clearTimeout(timer);
      }),
    );
    await this.schema.drop();
    for (const s of this.shardSchemas) if (s !== this.schema) await s.drop();
  }
}
