import { createConnection, createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { AdminTestApp, startAdminApi } from '../support/admin-app';
import { TEST_DATABASE_URL } from '../support/database';
import { waitFor } from '../support/kafka';

/** A TCP relay to Postgres that the test can take down, as a network failure would. */
async function startRelay(target: URL): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

/**
 * `GET /health` needs no token (load balancers call it), so it must not tell strangers what the
 * logs know: which hosts and ports Tributary talks to, and how that fails. With Postgres cut off,
 * it answers 503 with status words only (`unreachable`), never the driver's error text.
 */
describe('/health exposes no error text (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let relay: Awaited<ReturnType<typeof startRelay>>;

  beforeAll(async () => {
    const target = new URL(TEST_DATABASE_URL);
    relay = await startRelay(target);
    const viaRelay = new URL(TEST_DATABASE_URL);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    t = await startAdminApi('health-exposure', { DATABASE_URL: viaRelay.toString() });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 200 with status words while everything is up', async () => {
    const res = await request(t.http).get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', checks: { postgres: 'up', kafka: 'up' } });
  });

  it('answers 503 "unreachable" with Postgres cut off, without the connection error', async () => {
    await relay.cut();
    const res = await waitFor(async () => {
      const r = await request(t.http).get('/health');
      return r.status === 503 ? r : undefined;
    }, '/health to notice that Postgres is gone');
    expect(res.body).toEqual({
      status: 'unavailable',
      checks: { postgres: 'unreachable', kafka: 'up' },
    });
    expect(res.text).not.toMatch(/ECONNREFUSED|connect|127\.0\.0\.1|:\d{2,5}\b|Error/i);
  });
});
