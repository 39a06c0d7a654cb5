import * as t from '@tributary/sdk';
import { randomBytes } from 'node:crypto';
import { IncomingHttpHeaders, Server, createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { registerService } from '../support/fixtures';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A pass-through proxy in front of `target` that keeps a copy of every request it forwards. */
async function startRecordingProxy(target: string) {
  const captured: Captured[] = [];
  const { hostname, port } = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = singleValued(req.headers);
      captured.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body });
      const forward = request(
        { hostname, port, path: req.url, method: req.method, headers, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, captured, close };
}

function singleValued(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/**
 * Handler requests signed by the invoker with `invoker.signing-key` and verified by the SDK:
 * a deployment holding the same key runs them, one holding another key refuses every attempt.
 */
describe('handler request signatures (three apps as processes)', () => {
  const key = `signing-key-${randomBytes(12).toString('hex')}`;
  const kafka = testKafka('tributary-signing');
  const ran = { Signed: 0, OtherKey: 0, Replayed: 0 };
  let pipeline: Pipeline;
  let signed: t.RunningEndpoint;
  let otherKey: t.RunningEndpoint;
  let replayed: t.RunningEndpoint;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;

  const invocationsOf = (sub: string) =>
    pipeline.ds.getRepository(InvocationEntity).find({ where: { subscriptionId: sub } });

  async function subscribe(sink: string): Promise<string> {
    const topic = uniqueName('signing');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest' },
    });
    expect(res.status).toBe(201);
    await producer.send(topic, [{ key: null, value: '{"hello":"world"}' }]);
    return res.body.id as string;
  }

  beforeAll(async () => {
    const service = (name: keyof typeof ran) =>
      t.service({
        name,
        handlers: {
          work: async () => {
            ran[name] += 1;
            return 'done';
          },
        },
      });
    signed = await t.serve({ services: [service('Signed')], port: 0, signingKey: key });
    otherKey = await t.serve({
      services: [service('OtherKey')],
      port: 0,
      signingKey: `another-${key}`,
    });
    replayed = await t.serve({ services: [service('Replayed')], port: 0, signingKey: key });
    proxy = await startRecordingProxy(replayed.url);
    pipeline = await Pipeline.start('signing', {
      extraConfig: ['[invoker]', `signing-key = "${key}"`],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
  }, 120_000);

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await signed?.close();
    await otherKey?.close();
    await proxy?.close();
    await replayed?.close();
  });

  it('the deployment refuses a request without a signature', async () => {
    const res = await fetch(`${signed.url}/invoke/Signed/work`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(ran.Signed).toBe(0);
  });

  it('registers a deployment with the same key (discovery is signed too) and runs its handler', async () => {
    const registered = await pipeline.admin('POST', '/deployments', { uri: signed.url });
    expect(registered.status).toBe(201);
    const sub = await subscribe('service://Signed/work');
    const [row] = await waitFor(
      async () => {
        const rows = await invocationsOf(sub);
        return rows.length === 1 && rows[0].status === 'completed' ? rows : undefined;
      },
      `the signed invocation to complete\n${pipeline.outputs()}`,
      45_000,
      200,
    );
    expect(row.completionResult).toBe('success');
    expect(row.retryCount).toBe(0);
    expect(ran.Signed).toBe(1);
  });

  it('a deployment with another key: registration refused, invocations fail retryably with 401', async () => {
    const refused = await pipeline.admin('POST', '/deployments', { uri: otherKey.url });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain(
      'answered 401 (signature rejected: check the signing key)',
    );

    // Registered behind the admin API's back, as if the deployment's key changed later.
    await registerService(pipeline.ds, 'OtherKey', 'SERVICE', { work: null }, otherKey.url);
    const sub = await subscribe('service://OtherKey/work');
    const row = await waitFor(
      async () => {
        const [r] = await invocationsOf(sub);
        return r && r.retryCount >= 2 ? r : undefined;
      },
      `retried attempts refused by the deployment\n${pipeline.outputs()}`,
      45_000,
      200,
    );
    expect(row.status).not.toBe('completed');
    expect(row.lastFailureCode).toBe(401);
    expect(row.lastFailure).toMatch(
      /rejected the request signature \(401: .*signature.*\): check that the invoker and the deployment share the same signing key$/,
    );
    expect(ran.OtherKey).toBe(0);
  });

  it('a request captured on its way from the invoker is refused when replayed', async () => {
    const registered = await pipeline.admin('POST', '/deployments', { uri: proxy.url });
    expect(registered.status).toBe(201);
    const sub = await subscribe('service://Replayed/work');
    await waitFor(
      async () => {
        const rows = await invocationsOf(sub);
        return rows.length === 1 && rows[0].status === 'completed' ? rows : undefined;
      },
      `the invocation through the proxy to complete\n${pipeline.outputs()}`,
      45_000,
      200,
    );
    expect(ran.Replayed).toBe(1);
    const invoke = proxy.captured.find((c) => c.path === '/invoke/Replayed/work');
    expect(invoke?.headers['x-tributary-nonce']).toMatch(/^[0-9a-f]{32}$/);

    // The captured request sent again, well within the 5 minute window.
    const replay = await fetch(replayed.url + invoke!.path, {
      method: invoke!.method,
      headers: {
        'content-type': 'application/json',
        'x-tributary-timestamp': invoke!.headers['x-tributary-timestamp'],
        'x-tributary-nonce': invoke!.headers['x-tributary-nonce'],
        'x-tributary-signature': invoke!.headers['x-tributary-signature'],
        'x-tributary-signature-v2': invoke!.headers['x-tributary-signature-v2'],
      },
      body: invoke!.body,
    });
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain('replayed request (nonce already used)');
    expect(ran.Replayed).toBe(1);
  });
});
