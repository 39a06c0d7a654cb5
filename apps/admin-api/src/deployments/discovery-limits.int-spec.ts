import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { uniqueName } from '../../../../test/support/kafka';

/**
 * What `POST /deployments` fetches, and what it says back: at most `admin.max-manifest-bytes` of
 * a `/discover` answer, only from hosts in `admin.deployment-hosts`, and never the answer's bytes
 * in an error message. Real Postgres and Kafka; the deployments are small node:http servers.
 */
const MAX_MANIFEST_BYTES = 64 * 1024;
const SECRET = 'internal-only-text';

type Mode = 'stream' | 'not-json' | 'error' | 'manifest';

/** A `/discover` endpoint answering as `mode` says, counting connections and closed answers. */
interface Endpoint {
  url: string;
  port: number;
  mode: Mode;
  connections: number;
  /** Resolves when the next answer in progress is closed (ended, or cut off by the client). */
  nextClose(): Promise<void>;
  close(): Promise<void>;
}

async function endpoint(service: string): Promise<Endpoint> {
  let closed: (() => void)[] = [];
  const state = { mode: 'manifest' as Mode, connections: 0 };
  const server: Server = createServer((_req, res) => {
    res.on('close', () => {
      for (const resolve of closed.splice(0)) resolve();
    });
    switch (state.mode) {
      case 'stream': {
        // No content-length, and no end: only the reader's limit stops it.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(16 * 1024, ' ');
        const more = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', more);
        more();
        return;
      }
      case 'not-json':
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>${SECRET}</html>`);
        return;
      case 'error':
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`failed: ${SECRET}`);
        return;
      case 'manifest':
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            protocolMode: 'REQUEST_RESPONSE',
            minProtocolVersion: 1,
            maxProtocolVersion: 1,
            services: [{ name: service, ty: 'SERVICE', handlers: [{ name: 'run' }] }],
          }),
        );
        return;
    }
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    port,
    nextClose: () => new Promise<void>((resolve) => closed.push(resolve)),
    close: async () => {
      closed = [];
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

describe('discovery limits: answer size, allowed hosts, no echo (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let allowed: Endpoint;
  let elsewhere: Endpoint;
  let configDir: string;
  const service = uniqueName('limits').replace(/-/g, '_');

  beforeAll(async () => {
    allowed = await endpoint(service);
    elsewhere = await endpoint(service);
    configDir = mkdtempSync(path.join(tmpdir(), 'tributary-discovery-'));
    const file = path.join(configDir, 'tributary.toml');
    writeFileSync(
      file,
      [
        '[admin]',
        `max-manifest-bytes = ${MAX_MANIFEST_BYTES}`,
        `deployment-hosts = ["handlers.internal", "*.svc.cluster.local", "127.0.0.1:${allowed.port}"]`,
      ].join('\n'),
    );
    t = await startAdminApi('discovery-limits', { TRIBUTARY_CONFIG: file });
  });

  afterAll(async () => {
    await t?.close();
    await allowed?.close();
    await elsewhere?.close();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  const register = (uri: string) => request(t.http).post('/deployments').send({ uri });

  it('registers a deployment on an allowed host', async () => {
    allowed.mode = 'manifest';
    const res = await register(allowed.url);
    expect(res.status).toBe(201);
    expect(res.body.services.map((s: { name: string }) => s.name)).toEqual([service]);
  });

  it('refuses a host not in admin.deployment-hosts with 400, without connecting to it', async () => {
    for (const uri of [
      elsewhere.url,
      `http://localhost:${allowed.port}`,
      `http://handlers.internal.evil.example:${allowed.port}`,
      `http://svc.cluster.local:9080`,
      `http://handlers.internal@127.0.0.1:${elsewhere.port}`,
    ]) {
      const res = await register(uri);
      expect({ uri, status: res.status, body: res.body }).toEqual({
        uri,
        status: 400,
        body: {
          message: expect.stringMatching(
            /^Cannot register the deployment at '.+': the host '.+' is not in admin\.deployment-hosts$/,
          ),
          restate_code: null,
        },
      });
    }
    expect(elsewhere.connections).toBe(0);
  });

  it('stops reading a /discover answer at admin.max-manifest-bytes: 400 naming the limit, and the API stays up', async () => {
    allowed.mode = 'stream';
    const cutOff = allowed.nextClose();
    const res = await register(allowed.url);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      message: `Cannot register the deployment at '${allowed.url}': discovery failed: ${allowed.url}/discover answered more than ${MAX_MANIFEST_BYTES} bytes (admin.max-manifest-bytes); the answer was discarded`,
      restate_code: 'META0013',
    });
    await cutOff; // the endpoint saw its answer cut off: it was still sending
    const health = await request(t.http).get('/health');
    expect(health.status).toBe(200);
  });

  it.each<[Mode, string]>([
    ['not-json', 'answered 200 with a body that is not JSON'],
    ['error', 'answered 500'],
  ])('says what failed when the answer is %s, without echoing the answer', async (mode, what) => {
    allowed.mode = mode;
    const res = await register(allowed.url);
    expect(res.status).toBe(400);
    // Both protocols were tried, and each says what it got, without the answer's bytes.
    const expected = `Cannot register the deployment at '${allowed.url}': discovery failed: as a Tributary handler endpoint (HTTP/1.1 GET /discover, JSON): ${allowed.url}/discover ${what}; as a Restate SDK endpoint (service protocol): `;
    expect((res.body.message as string).slice(0, expected.length)).toBe(expected);
    expect(res.body.message).not.toContain(SECRET);
  });
});
