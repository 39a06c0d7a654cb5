import { AssignerProtocol } from 'kafkajs';
import { DataSource } from 'typeorm';
import {
  decodeBusRecord,
  handlerHeaders,
  InvocationCommand,
} from '../../../libs/shared/src/contracts/invocation-command';
import { busTopics } from '../../../libs/shared/src/contracts/topics';
import { SubscriptionEntity } from '../../../libs/shared/src/database/entities';
import { invocationIdForRecord } from '../../../libs/shared/src/ids/ids';
import {
  KafkajsAdmin,
  KafkajsBatchConsumer,
  KafkajsProducer,
} from '../../../libs/shared/src/kafka/kafkajs.client';
import { writeTestConfig } from '../../../test/support/app-config';
import { createTestSchema, TestSchema } from '../../../test/support/database';
import { insertSubscription, registerService } from '../../../test/support/fixtures';
import { testKafka, uniqueName, waitFor } from '../../../test/support/kafka';
import { AppProcess, freePort, startApp } from '../../../test/support/processes';

/** Fast takeover after a SIGKILL: the group notices a dead member after 6s (the broker minimum). */
const FAST_GROUP = {
  'auto.offset.reset': 'earliest',
  'session.timeout.ms': '6000',
  'heartbeat.interval.ms': '1000',
};

describe('consumer workers (real Kafka, real Postgres, worker processes)', () => {
  const kafka = testKafka();
  let schema: TestSchema;
  let ds: DataSource;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  let busReader: KafkajsBatchConsumer;
  let configFile: string;
  let busTopic: string;
  const workers: AppProcess[] = [];
  /** Every command read from the bus, by invocation id. */
  const commands = new Map<string, InvocationCommand>();

  const startWorker = async (id: string): Promise<AppProcess & { port: number }> => {
    const port = await freePort();
    const w = startApp('consumer-worker', ['--config-file', configFile], {
      TRIBUTARY_WORKER_BIND_ADDRESS: `127.0.0.1:${port}`,
      TRIBUTARY_WORKER_ID: id,
    });
    workers.push(w);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok,
      `worker ${id} ready`,
      60_000,
      200,
    );
    return Object.assign(w, { port });
  };

  const produce = async (topic: string, n: number, partitions: number, from = 0) => {
    await producer.send(
      topic,
      Array.from({ length: n }, (_, i) => ({
        key: `key-${(from + i) % 50}`,
        value: JSON.stringify({ n: from + i }),
        partition: (from + i) % partitions,
      })),
    );
  };

  const commandsFor = (subscriptionId: string) =>
    [...commands.values()].filter((c) => c.subscriptionId === subscriptionId);

  beforeAll(async () => {
    schema = await createTestSchema('worker');
    ds = await schema.migrated();
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    const busPrefix = uniqueName('bus');
    busTopic = busTopics(busPrefix).invocations;
    configFile = writeTestConfig({
      schema: schema.name,
      busPrefix,
      extra: ['[worker]', 'max-record-bytes = 4096'],
    });
    await admin.ensureTopics([{ topic: busTopic, partitions: 4 }]);
    await registerService(ds, 'Counter', 'VIRTUAL_OBJECT', { add: 'EXCLUSIVE', get: 'SHARED' });
    await registerService(ds, 'Greeter', 'SERVICE', { greet: null });
    busReader = new KafkajsBatchConsumer(kafka, {
      groupId: uniqueName('bus-reader'),
      topics: [busTopic],
      fromBeginning: true,
    });
    await busReader.start(async (batch) => {
      for (const r of batch.records) {
        const m = decodeBusRecord(r.value, r.headers);
        if (m.type === 'invoke') commands.set(m.id, m);
      }
    });
  });

  afterEach(async () => {
    workers.forEach((w) => w.kill('SIGKILL'));
    await Promise.all(workers.map((w) => w.exited));
    workers.length = 0;
    await ds.getRepository(SubscriptionEntity).clear();
  });

  /** Partitions per worker id in a subscription's group, from the group's member client ids. */
  const holders = async (groupId: string): Promise<Map<string, number>> => {
    const groupAdmin = kafka.admin();
    await groupAdmin.connect();
    try {
      const { groups } = await groupAdmin.describeGroups([groupId]);
      const result = new Map<string, number>();
      for (const m of groups[0]?.members ?? []) {
        const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        const count = Object.values(decoded?.assignment ?? {}).reduce((n, ps) => n + ps.length, 0);
        result.set(m.clientId.split('@')[1], count);
      }
      return result;
    } finally {
      await groupAdmin.disconnect();
    }
  };

  afterAll(async () => {
    await busReader.stop();
    await producer.close();
    await admin.close();
    await schema.drop();
  });

  it('turns each record into one command with its deterministic id, metadata headers and unchanged bytes', async () => {
    const topic = uniqueName('records');
    await admin.ensureTopics([{ topic, partitions: 2 }]);
    const sub = await insertSubscription(ds, topic, 'Counter', 'add', FAST_GROUP);
    const binary = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    await producer.send(topic, [
      {
        key: 'alice',
        value: binary,
        partition: 1,
        headers: { traceparent: '00-abc-01', blob: binary, 'kafka.offset': 'spoofed' },
      },
      { key: null, value: '{"n":1}', partition: 0 },
    ]);
    await startWorker('w-records');

    const got = await waitFor(
      () => (commandsFor(sub).length === 2 ? commandsFor(sub) : undefined),
      'two commands',
    );
    const alice = got.find((c) => c.record.partition === 1)!;
    expect(alice.id).toBe(invocationIdForRecord(sub, topic, 1, '0'));
    expect(alice.target).toEqual({
      service: 'Counter',
      handler: 'add',
      key: 'alice',
      serviceTy: 'VIRTUAL_OBJECT',
      handlerTy: 'EXCLUSIVE',
    });
    expect(alice.body).toEqual(binary);
    expect(alice.failure).toBeNull();
    expect(handlerHeaders(alice)).toEqual({
      'restate.subscription.id': sub,
      'kafka.offset': '0',
      'kafka.partition': '1',
      'kafka.topic': topic,
      'kafka.key': 'YWxpY2U=', // URL-safe base64 with padding, as Restate sends it
      traceparent: '00-abc-01',
      'kafka.timestamp': alice.record.timestamp,
    });
    expect(Number(alice.record.timestamp)).toBeGreaterThan(Date.now() - 120_000);
    expect(alice.rawHeaders).toEqual({ blob: binary.toString('base64') });
    const nullKey = got.find((c) => c.record.partition === 0)!;
    expect(nullKey.target.key).toBe('');
    expect(handlerHeaders(nullKey)['kafka.key']).toBeUndefined();
  });

  it('exports the lag of every partition it holds, those without a batch included', async () => {
    const topic = uniqueName('lag');
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    const sub = await insertSubscription(ds, topic, 'Counter', 'add', FAST_GROUP);
    // Partition 0 gets records, 1 and 2 none: no batch ever comes from them.
    await producer.send(topic, [{ key: 'a', value: '1', partition: 0 }]);
    const w = await startWorker('w-lag');
    const lagOf = async (): Promise<Map<string, number>> => {
      const text = await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text();
      const lags = new Map<string, number>();
      for (const m of text.matchAll(
        /^tributary_worker_lag_records\{subscription="([^"]+)",partition="(\d+)"\} (\d+)$/gm,
      )) {
        if (m[1] === sub) lags.set(m[2], Number(m[3]));
      }
      return lags;
    };
    const lags = await waitFor(async () => {
      const l = await lagOf();
      return l.size === 3 ? l : undefined;
    }, 'a lag for each of the three partitions');
    expect([...lags.keys()].sort()).toEqual(['0', '1', '2']);
    expect(lags.get('1')).toBe(0);
    expect(lags.get('2')).toBe(0);
  });

  it('turns poison records into failure commands and keeps the partition flowing', async () => {
    const topic = uniqueName('poison');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const sub = await insertSubscription(ds, topic, 'Counter', 'add', FAST_GROUP);
    const gone = await insertSubscription(ds, topic, 'Counter', 'removed', FAST_GROUP);
    await producer.send(topic, [
      { key: Buffer.from([0xc3, 0x28]), value: '1' }, // invalid UTF-8
      { key: 'big', value: Buffer.alloc(5_000, 1) }, // over the 4 KiB limit of this test
      { key: 'fine', value: '2' },
    ]);
    await startWorker('w-poison');

    const got = await waitFor(
      () => (commandsFor(sub).length === 3 ? commandsFor(sub) : undefined),
      'three commands',
    );
    const byOffset = (o: string) => got.find((c) => c.record.offset === o)!;
    expect(byOffset('0').failure).toContain('must be valid UTF-8');
    expect(byOffset('1').failure).toContain('exceeds the limit');
    expect(byOffset('1').body).toBeNull();
    expect(byOffset('2').failure).toBeNull();
    expect(byOffset('2').target.key).toBe('fine');

    const orphan = await waitFor(
      () => (commandsFor(gone).length === 3 ? commandsFor(gone) : undefined),
      'commands for the removed handler',
    );
    expect(
      orphan.every((c) => c.failure?.includes("handler 'Counter/removed' is not registered")),
    ).toBe(true);
  });

  it('two workers share two subscriptions; one is SIGKILLed mid-stream and nothing is lost', async () => {
    const topics = [uniqueName('share-a'), uniqueName('share-b')];
    await admin.ensureTopics(topics.map((topic) => ({ topic, partitions: 4 })));
    const subs = [
      await insertSubscription(ds, topics[0], 'Counter', 'add', FAST_GROUP),
      await insertSubscription(ds, topics[1], 'Greeter', 'greet', FAST_GROUP),
    ];
    const [w1] = await Promise.all([startWorker('w-one'), startWorker('w-two')]);
    // The work spreads: each worker holds two of the four partitions of each subscription.
    for (const sub of subs) {
      await waitFor(async () => {
        const h = await holders(sub);
        return h.get('w-one') === 2 && h.get('w-two') === 2;
      }, `partitions of ${sub} spread over both workers`);
    }

    const total = 1600;
    const stream = (async () => {
      for (let from = 0; from < total; from += 40) {
        for (const topic of topics) await produce(topic, 40, 4, from);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor(
      () => subs.every((s) => commandsFor(s).length >= 200),
      'the stream to be under way',
    );
    w1.kill('SIGKILL');
    await stream;
    expect(subs.every((s) => commandsFor(s).length < total)).toBe(true);

    for (const [i, sub] of subs.entries()) {
      await waitFor(
        () => commandsFor(sub).length === total,
        `all ${total} commands of subscription ${i}`,
        60_000,
      );
      for (let p = 0; p < 4; p++) {
        for (let o = 0; o < total / 4; o++) {
          expect(commands.has(invocationIdForRecord(sub, topics[i], p, String(o)))).toBe(true);
        }
      }
      // The survivor took over the dead worker's partitions.
      expect(await holders(sub)).toEqual(new Map([['w-two', 4]]));
    }
  });

  it('stops consuming a deleted or paused subscription within seconds and resumes where it stopped', async () => {
    const topic = uniqueName('pause');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const paused = await insertSubscription(ds, topic, 'Greeter', 'greet', FAST_GROUP);
    const deleted = await insertSubscription(ds, topic, 'Greeter', 'greet', FAST_GROUP);
    // Stays active on the same topic in the same worker: when it has read the later records, a
    // consumer the worker wrongly kept for the other two has had them to read as well.
    const witness = await insertSubscription(ds, topic, 'Greeter', 'greet', FAST_GROUP);
    await startWorker('w-pause');
    await produce(topic, 10, 1);
    await waitFor(
      () => [paused, deleted, witness].every((s) => commandsFor(s).length === 10),
      'first 10 commands each',
    );

    const repo = ds.getRepository(SubscriptionEntity);
    await repo.update(paused, { status: 'paused', generation: () => 'generation + 1' });
    await repo.delete(deleted);
    // Consumption stops once the consumers have left their groups.
    const groupAdmin = kafka.admin();
    await groupAdmin.connect();
    try {
      const membersOf = async () =>
        (await groupAdmin.describeGroups([paused, deleted])).groups.map((g) => g.members.length);
      await waitFor(
        async () => (await membersOf()).every((n) => n === 0),
        'both consumers to leave their groups',
        10_000,
        200,
      );
      await produce(topic, 10, 1, 10);
      await waitFor(
        () => commandsFor(witness).length === 20,
        'the active subscription to read the next 10',
      );
      // Nothing read them for the stopped two: no commands, no member rejoined, no offset committed
      // past the first 10 (the worker commits a source offset once the bus acknowledged them).
      expect(commandsFor(paused)).toHaveLength(10);
      expect(commandsFor(deleted)).toHaveLength(10);
      expect(await membersOf()).toEqual([0, 0]);
      for (const groupId of [paused, deleted]) {
        const [{ partitions }] = await groupAdmin.fetchOffsets({ groupId, topics: [topic] });
        expect(Number(partitions[0].offset)).toBeLessThanOrEqual(10);
      }
    } finally {
      await groupAdmin.disconnect();
    }

    await repo.update(paused, { status: 'active', generation: () => 'generation + 1' });
    await waitFor(
      () => commandsFor(paused).length === 20,
      'the paused subscription to resume with the next 10',
    );
    const offsets = commandsFor(paused)
      .map((c) => Number(c.record.offset))
      .sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
