import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTestConfig } from '../support/app-config';
import { createTestSchema, TestSchema } from '../support/database';
import { uniqueName, waitFor } from '../support/kafka';
import { AppProcess, freePort, ROOT, startApp } from '../support/processes';

/** The admin API as a process, started from a config file with `extra` lines. */
class AdminProcess {
  private constructor(
    readonly process: AppProcess,
    readonly url: string,
    readonly address: string,
    private readonly schema: TestSchema,
  ) {}

  static async start(label: string, extra: string[]): Promise<AdminProcess> {
    const schema = await createTestSchema(label);
    const file = writeTestConfig({ schema: schema.name, busPrefix: uniqueName('bus'), extra });
    const address = `127.0.0.1:${await freePort()}`;
    const proc = startApp('admin-api', ['--config-file', file], {
      TRIBUTARY_ADMIN_BIND_ADDRESS: address,
    });
    const admin = new AdminProcess(proc, `http://${address}`, address, schema);
    await waitFor(
      async () => (await fetch(`${admin.url}/health`)).ok,
      `admin-api to be ready (output: ${proc.output().slice(-2000)})`,
      60_000,
      200,
    );
    return admin;
  }

  call(method: string, route: string, headers: Record<string, string> = {}, body?: unknown) {
    return fetch(`${this.url}${route}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async stop(): Promise<void> {
    this.process.kill('SIGTERM');
    await this.process.exited;
    await this.schema.drop();
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('admin API with bearer tokens (admin.tokens)', () => {
  const tokens = [
    `tok-a-${randomBytes(16).toString('hex')}`,
    `tok-b-${randomBytes(16).toString('hex')}`,
  ];
  let admin: AdminProcess;

  beforeAll(async () => {
    admin = await AdminProcess.start('auth_tokens', [
      '[admin]',
      `tokens = ["${tokens[0]}", "${tokens[1]}"]`,
    ]);
  });

  afterAll(async () => {
    await admin?.stop();
  });

  it('answers 401 with a Bearer challenge and Restate body to a request without a token', async () => {
    for (const route of ['/deployments', '/v4/subscriptions', '/version', '/openapi.json']) {
      const res = await admin.call('GET', route);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tributary-admin"');
      expect(await res.json()).toEqual({
        message: expect.stringContaining("send 'Authorization: Bearer <token>'"),
        restate_code: null,
      });
    }
  });

  it('answers 401 to a wrong token, another scheme, and a token with extra characters', async () => {
    for (const authorization of [
      'Bearer not-a-token',
      `Bearer ${tokens[0]}x`,
      `Bearer ${tokens[0].slice(0, -1)}`,
      `Basic ${Buffer.from(`admin:${tokens[0]}`).toString('base64')}`,
      tokens[0],
    ]) {
      const res = await admin.call('GET', '/deployments', { authorization });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { message: string; restate_code: unknown };
      expect(body.restate_code).toBeNull();
      expect(JSON.stringify(body)).not.toContain(tokens[0]);
    }
  });

  it('serves a request carrying any of the tokens', async () => {
    for (const token of tokens) {
      const res = await admin.call('GET', '/v4/deployments', bearer(token));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ deployments: [] });
    }
    expect((await admin.call('GET', '/version', bearer(tokens[1]))).status).toBe(200);
  });

  it('refuses a write without a token, before doing anything', async () => {
    const name = uniqueName('auth-cluster').replace(/-/g, '_');
    const cluster = { name, properties: { 'bootstrap.servers': '127.0.0.1:9092' } };
    expect((await admin.call('POST', '/kafka-clusters', {}, cluster)).status).toBe(401);
    expect((await admin.call('GET', `/kafka-clusters/${name}`, bearer(tokens[0]))).status).toBe(
      404,
    );
    const created = await admin.call('POST', '/kafka-clusters', bearer(tokens[0]), cluster);
    expect(created.status).toBe(201);
  });

  it('leaves GET /health open for probes', async () => {
    for (const route of ['/health', '/v4/health']) {
      const res = await admin.call('GET', route);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', checks: { postgres: 'up', kafka: 'up' } });
    }
  });

  it("works with Restate's CLI through RESTATE_AUTH_TOKEN", async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'restate-cli-auth-'));
    const cli = (token?: string) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          path.join(ROOT, 'node_modules/.bin/restate'),
          ['--yes', 'deployments', 'list'],
          {
            timeout: 30_000,
            env: {
              PATH: process.env.PATH,
              HOME: home,
              XDG_CONFIG_HOME: home,
              RESTATE_ADMIN_URL: admin.url,
              NO_COLOR: '1',
              ...(token ? { RESTATE_AUTH_TOKEN: token } : {}),
            },
          },
          (err, stdout, stderr) =>
            resolve({ code: typeof err?.code === 'number' ? err.code : 0, out: stdout + stderr }),
        );
      });
    try {
      const refused = await cli();
      expect(refused.code).not.toBe(0);
      expect(refused.out).toMatch(/401|Unauthorized|Authentication required/i);
      const allowed = await cli(tokens[1]);
      expect({ code: allowed.code, out: allowed.out }).toEqual({
        code: 0,
        out: expect.any(String),
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('says at start that tokens are required, without printing them', () => {
    const out = admin.process.output();
    expect(out).toContain('admin API requires a bearer token (2 tokens in admin.tokens)');
    expect(out).not.toContain('unauthenticated');
    for (const token of tokens) expect(out).not.toContain(token);
  });
});

describe('admin API without tokens', () => {
  let admin: AdminProcess;

  beforeAll(async () => {
    admin = await AdminProcess.start('auth_open', []);
  });

  afterAll(async () => {
    await admin?.stop();
  });

  it('serves requests without a token, on loopback, and warns at start that it is unauthenticated', async () => {
    expect((await admin.call('GET', '/deployments')).status).toBe(200);
    const warning = await waitFor(
      () =>
        admin.process
          .output()
          .split('\n')
          .find((line) => line.includes('unauthenticated')),
      'the start-up warning',
    );
    expect(warning).toContain('WARN');
    expect(warning).toContain(
      `admin API is unauthenticated (no admin.tokens) and listening on ${admin.address}: only this machine can reach it`,
    );
  });
});
