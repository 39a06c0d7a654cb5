import * as t from '@tributary/sdk';
import type { Kafka } from 'kafkajs';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import {
  KafkajsAdmin,
  KafkajsBatchConsumer,
  KafkajsProducer,
} from '../../libs/shared/src/kafka/kafkajs.client';
import { uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';
import {
  brokerCaFile,
  kafkaFromProperties,
  SASL_SSL_BROKER,
  saslClusterConfig,
  saslProperties,
  SaslMechanism,
  SCRAM_USER,
  SSL_BROKER,
} from './secure-broker';

/**
 * The Kafka layer (translated librdkafka properties -> kafkajs) against the local broker's SASL
 * (:9094), TLS (:9095) and SASL-over-TLS (:9096) listeners, set up by scripts/infra-up.sh.
 */
describe('Kafka over SASL and TLS (real broker)', () => {
  const mechanisms: SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

  /** Creates a topic, produces a record and reads it back, all through `kafka`. */
  async function roundTrip(kafka: Kafka, label: string): Promise<void> {
    const topic = uniqueName(label);
    const marker = `hello over ${label} ${topic}`;
    const groupId = uniqueName(`${label}-group`);
    const admin = KafkajsAdmin.create(kafka);
    const producer = KafkajsProducer.create(kafka);
    const consumer = new KafkajsBatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
    });
    try {
      await admin.ensureTopics([{ topic, partitions: 1 }]);
      await producer.send(topic, [{ key: 'k', value: marker }]);
      const seen: string[] = [];
      await consumer.start(async (batch) => {
        seen.push(...batch.records.map((r) => r.value?.toString() ?? ''));
      });
      await waitFor(() => seen.includes(marker), `the record to come back over ${label}`);
      const [offsets] = await waitFor(async () => {
        const o = await admin.groupOffsets(groupId, topic);
        return o[0]?.lag === 0 ? o : undefined;
      }, `the offset commit over ${label}`);
      expect(offsets).toEqual({ partition: 0, committed: '1', start: '0', end: '1', lag: 0 });
    } finally {
      await consumer.stop();
      await producer.close();
      await admin.close();
    }
  }

  it.each(mechanisms)(
    'SASL_PLAINTEXT with %s and the right credentials: creates, produces, consumes, commits',
    async (mechanism) => {
      await roundTrip(kafkaFromProperties(saslProperties(mechanism), mechanism), mechanism);
    },
  );

  it.each(mechanisms)(
    'SASL_PLAINTEXT with %s and a wrong password: a clear authentication error',
    async (mechanism) => {
      const wrong = `wrong-password-${mechanism}`;
      const admin = KafkajsAdmin.create(
        kafkaFromProperties(saslProperties(mechanism, wrong), `${mechanism}-wrong`, {
          failFast: true,
        }),
      );
      try {
        const err: Error = await admin.partitionCount('any').then(
          () => {
            throw new Error('connected with a wrong password');
          },
          (e: Error) => e,
        );
        expect(err.name).toBe('KafkaJSSASLAuthenticationError');
        // e.g. "SASL SCRAM SHA256 authentication failed: ... invalid credentials ..."
        const name = mechanism.replace('SCRAM-SHA-', 'SCRAM SHA');
        expect(err.message).toContain(`SASL ${name} authentication failed`);
        expect(err.message).not.toContain(wrong);
      } finally {
        await admin.close();
      }
    },
  );

  it('SSL with ssl.ca.location: produces and consumes over TLS, checking the host name', async () => {
    const props = {
      'bootstrap.servers': SSL_BROKER,
      'security.protocol': 'SSL',
      'ssl.ca.location': brokerCaFile(),
    };
    await roundTrip(kafkaFromProperties(props, 'ssl'), 'ssl');
  });

  it('SSL without the CA: the broker certificate is refused', async () => {
    const props = { 'bootstrap.servers': SSL_BROKER, 'security.protocol': 'SSL' };
    const admin = KafkajsAdmin.create(kafkaFromProperties(props, 'ssl-no-ca', { failFast: true }));
    try {
      await expect(admin.partitionCount('any')).rejects.toThrow(/self-signed certificate/);
    } finally {
      await admin.close();
    }
  });

  it('SASL_SSL with SCRAM-SHA-512: produces and consumes over TLS with a login', async () => {
    const props = {
      'bootstrap.servers': SASL_SSL_BROKER,
      'security.protocol': 'SASL_SSL',
      'ssl.ca.location': brokerCaFile(),
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.username': SCRAM_USER.username,
      'sasl.password': SCRAM_USER.password,
    };
    await roundTrip(kafkaFromProperties(props, 'sasl-ssl'), 'sasl-ssl');
  });
});

describe('a subscription on a SASL/SCRAM cluster from the config file, end to end', () => {
  const kafka = kafkaFromProperties(saslProperties('SCRAM-SHA-256'), 'sasl-e2e');
  const received: number[] = [];
  let pipeline: Pipeline;
  let endpoint: t.RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;

  beforeAll(async () => {
    const sink = t.service({
      name: 'SecureSink',
      handlers: {
        take: async (_ctx: t.Context, input: { n: number }) => {
          received.push(input.n);
          return input.n * 10;
        },
      },
    });
    endpoint = await t.serve({ services: [sink], port: 0 });
    pipeline = await Pipeline.start('sasl_e2e', {
      extraConfig: saslClusterConfig('secure', 'SCRAM-SHA-512'),
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    expect((await pipeline.admin('POST', '/deployments', { uri: endpoint.url })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await endpoint?.close();
  });

  it('consumes over SCRAM-SHA-512 in a real worker and completes every invocation', async () => {
    const topic = uniqueName('sasl-e2e');
    await admin.ensureTopics([{ topic, partitions: 2 }]);
    const created = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://secure/${topic}`,
      sink: 'service://SecureSink/take',
      options: { 'auto.offset.reset': 'earliest' },
    });
    expect(created.status).toBe(201);
    const sub = created.body.id as string;
    await producer.send(
      topic,
      [1, 2, 3, 4].map((n) => ({ key: `k${n}`, value: JSON.stringify({ n }), partition: n % 2 })),
    );

    const rows = await waitFor(
      async () => {
        const found = await pipeline.ds
          .getRepository(InvocationEntity)
          .find({ where: { subscriptionId: sub } });
        return found.length === 4 && found.every((r) => r.status === 'completed')
          ? found
          : undefined;
      },
      `4 completed invocations\n${pipeline.outputs()}`,
      60_000,
      200,
    );
    expect(rows.every((r) => r.completionResult === 'success')).toBe(true);
    expect(rows.map((r) => JSON.parse(r.output!.toString()) as number).sort()).toEqual([
      10, 20, 30, 40,
    ]);
    expect([...received].sort()).toEqual([1, 2, 3, 4]);

    // The admin API reads the group's lag over SASL too, with the config file's credentials.
    const status = await waitFor(async () => {
      const res = await pipeline.admin('GET', `/subscriptions/${sub}`);
      const body = res.body as { partitions?: { lag: number | null }[]; partitions_error: unknown };
      const parts = body.partitions;
      return parts?.length === 2 && parts.every((p) => p.lag === 0) ? body : undefined;
    }, `committed offsets of ${sub} seen through the admin API`);
    expect(status.partitions_error ?? null).toBeNull();
  });
});
