import { spawn } from 'node:child_process';
import path from 'node:path';
import { InvocationEntity } from '../libs/shared/src/database/entities';
import { invocationIdForRecord } from '../libs/shared/src/ids/ids';
import type { OutgoingRecord } from '../libs/shared/src/kafka/kafka.types';
import { KafkajsAdmin, KafkajsProducer } from '../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from './support/kafka';
import { buildMavenProject } from './support/maven';
import { Pipeline } from './support/pipeline';
import { freePort, ROOT } from './support/processes';

/**
 * A service written with Restate's Java SDK (examples/restate-java), built with Maven and run as
 * its own JVM process, unchanged, fed by Kafka records through the three apps: the admin API
 * discovers it, the invoker speaks Restate's service protocol to it.
 */
jest.setTimeout(180_000);

const PROJECT = path.join(ROOT, 'examples/restate-java');

interface JavaService {
  url: string;
  output(): string;
  close(): Promise<void>;
}

async function startJavaService(jar: string): Promise<JavaService> {
  const port = await freePort();
  const child = spawn('java', ['-jar', jar, String(port)], {
    cwd: PROJECT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.on('error', (err) => (out += `could not run java (is a JDK on PATH?): ${err.message}\n`));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const listening = `Points listening on port ${port}`;
  try {
    // Ends early, without a listening line, when the JVM could not start or has exited.
    await waitFor(
      () => out.includes(listening) || child.exitCode !== null || child.pid === undefined,
      `the Java service to listen on ${port}`,
      60_000,
      100,
    );
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}; its output:\n${out.slice(-2000)}`);
  }
  if (!out.includes(listening)) {
    await close();
    throw new Error(
      `the Java service did not start (exit code ${String(child.exitCode)}):\n${out.slice(-2000)}`,
    );
  }
  return { url: `http://127.0.0.1:${port}`, output: () => out, close };
}

describe('a Restate Java SDK service runs unchanged (real Kafka, Postgres, JVM and SDK)', () => {
  const kafka = testKafka();
  let service: JavaService;
  let pipeline: Pipeline;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  const invocations = () => pipeline.ds.getRepository(InvocationEntity);

  beforeAll(async () => {
    const jar = await buildMavenProject(PROJECT, 'target/restate-java-example.jar');
    service = await startJavaService(jar.path);
    pipeline = await Pipeline.start('restate-java');
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
  }, 480_000);

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await service?.close();
  });

  async function subscribe(sink: string) {
    const topic = uniqueName('restate-java');
    await admin.ensureTopics([{ topic, partitions: 2 }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest' },
    });
    expect(res.status).toBe(201);
    return { topic, sub: res.body.id as string };
  }

  const completed = (sub: string, n: number) =>
    waitFor(
      async () => {
        const rows = await invocations().findBy({ subscriptionId: sub });
        return rows.length === n && rows.every((r) => r.status === 'completed') ? rows : undefined;
      },
      `${n} completed invocations of ${sub}\n${pipeline.outputs()}\n--- java\n${service.output().slice(-3000)}`,
      60_000,
      200,
    );

  it('registers the Java endpoint by discovering it: a virtual object, protocol V5 to V6', async () => {
    const res = await pipeline.admin('POST', '/deployments', { uri: service.url });
    expect(res.status).toBe(201);
    const listed = await pipeline.admin('GET', '/deployments');
    expect(
      (listed.body.deployments as { uri: string }[]).find((d) => d.uri === service.url),
    ).toMatchObject({
      service_protocol: 'restate',
      http_version: 'HTTP/2.0',
      min_protocol_version: 5,
      max_protocol_version: 6,
    });
    const services = await pipeline.admin('GET', '/services');
    const points = (
      services.body.services as { name: string; ty: string; handlers: { name: string }[] }[]
    ).find((s) => s.name === 'Points');
    expect(points?.ty).toBe('VirtualObject');
    expect(points?.handlers.map((h) => h.name).sort()).toEqual(['add', 'get', 'reset']);
  });

  it('runs each record once, in key order, with state and a ctx.run that ran once per invocation', async () => {
    const { topic, sub } = await subscribe('service://Points/add');
    const amounts = [5, 7, 1, 2, 10, 3];
    const records: OutgoingRecord[] = amounts.map((n, i) => ({
      key: i % 2 === 0 ? 'alice' : 'bob',
      value: String(n),
      partition: 0,
    }));
    await producer.send(topic, records);
    const rows = await completed(sub, amounts.length);
    for (const r of rows) expect(r.completionResult).toBe('success');
    const outputOf = (offset: number) => {
      const id = invocationIdForRecord(sub, topic, 0, String(offset));
      return JSON.parse(rows.find((r) => r.id === id)!.output!.toString()) as unknown;
    };
    // alice: 5, 1, 10; bob: 7, 2, 3, each on the total its key's earlier records left.
    expect(outputOf(0)).toEqual({ key: 'alice', previous: 0, total: 5, receipt: 'alice:5' });
    expect(outputOf(2)).toEqual({ key: 'alice', previous: 5, total: 6, receipt: 'alice:6' });
    expect(outputOf(4)).toEqual({ key: 'alice', previous: 6, total: 16, receipt: 'alice:16' });
    expect(outputOf(1)).toEqual({ key: 'bob', previous: 0, total: 7, receipt: 'bob:7' });
    expect(outputOf(3)).toEqual({ key: 'bob', previous: 7, total: 9, receipt: 'bob:9' });
    expect(outputOf(5)).toEqual({ key: 'bob', previous: 9, total: 12, receipt: 'bob:12' });
    // The SDK suspended on each ctx.run and was invoked again with its result: the closure, which
    // prints the invocation id, ran once per invocation.
    for (const r of rows) {
      const lines = service.output().split('\n');
      expect(lines.filter((l) => l === `side effect ran for ${r.id}`)).toHaveLength(1);
    }
    const state: { object_key: string; state_key: string; value: Buffer }[] =
      await pipeline.ds.query(
        `SELECT object_key, state_key, value FROM object_state WHERE service_name = 'Points' ORDER BY 1, 2`,
      );
    const value = (key: string, name: string): unknown =>
      JSON.parse(state.find((s) => s.object_key === key && s.state_key === name)!.value.toString());
    expect(value('alice', 'total')).toBe(16);
    expect(value('alice', 'adds')).toBe(3);
    expect(value('bob', 'total')).toBe(12);
    expect(value('bob', 'adds')).toBe(3);
  });

  it('ends on a TerminalException at once, failed, with its code and message', async () => {
    const { topic, sub } = await subscribe('service://Points/add');
    await producer.send(topic, [{ key: 'carol', value: '-3', partition: 0 }]);
    const [row] = await completed(sub, 1);
    expect(row).toMatchObject({
      completionResult: 'failure',
      completionFailure: 'points must be positive, got -3',
      lastFailureCode: 400,
      retryCount: 0,
    });
    const state: unknown[] = await pipeline.ds.query(
      `SELECT 1 FROM object_state WHERE service_name = 'Points' AND object_key = 'carol'`,
    );
    expect(state).toHaveLength(0);
  });
});
