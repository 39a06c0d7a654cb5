import * as t from '@tributary/sdk';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { invocationIdForRecord } from '../../libs/shared/src/ids/ids';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';

/**
 * A handler answering more than `invoker.max-response-bytes`: the invoker stops reading, records
 * the attempt as a retryable failure naming the limit, retries until max-attempts ends it, and
 * keeps running the other records. The three apps run as processes, on real Kafka and Postgres.
 */
jest.setTimeout(180_000);

const MAX_RESPONSE_BYTES = 64 * 1024;

describe('handler answers over invoker.max-response-bytes (real Kafka, Postgres and processes)', () => {
  const kafka = testKafka();
  /** The `size` of each call the handler got, in order. */
  const calls: number[] = [];
  let pipeline: Pipeline;
  let endpoint: t.RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;

  beforeAll(async () => {
    endpoint = await t.serve({
      services: [
        t.service({
          name: 'Oversized',
          handlers: {
            answer: async (_ctx: t.Context, input: { size: number }) => {
              calls.push(input.size);
              return 'x'.repeat(input.size);
            },
          },
        }),
      ],
      port: 0,
    });
    pipeline = await Pipeline.start('oversized', {
      extraConfig: [
        '[invoker]',
        `max-response-bytes = ${MAX_RESPONSE_BYTES}`,
        '[invocation.default-retry-policy]',
        'max-attempts = 2',
        'initial-interval = "50ms"',
        'on-max-attempts = "kill"',
      ],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    expect((await pipeline.admin('POST', '/deployments', { uri: endpoint.url })).status).toBe(201);
  });

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await endpoint?.close();
  });

  it('fails the attempt readably, ends it at max-attempts, and the invoker runs the next records', async () => {
    const topic = uniqueName('oversized');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const created = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink: 'service://Oversized/answer',
      options: { 'auto.offset.reset': 'earliest' },
    });
    expect(created.status).toBe(201);
    const sub = created.body.id as string;
    const idAt = (offset: number) => invocationIdForRecord(sub, topic, 0, String(offset));
    const rowAt = (offset: number) =>
      pipeline.ds.getRepository(InvocationEntity).findOneBy({ id: idAt(offset) });
    const completed = async (offset: number, what: string): Promise<InvocationEntity> => {
      try {
        return await waitFor(
          async () => {
            const row = await rowAt(offset);
            return row?.status === 'completed' ? row : undefined;
          },
          what,
          60_000,
          200,
        );
      } catch (err) {
        const row = await rowAt(offset);
        throw new Error(`${String(err)}\nrow: ${JSON.stringify(row)}\n${pipeline.outputs()}`);
      }
    };
    const big = MAX_RESPONSE_BYTES * 4;
    const record = (size: number) => ({ key: 'k', value: JSON.stringify({ size }) });

    await producer.send(topic, [record(big), record(10)]);
    const failed = await completed(0, 'the oversized answer to end after max-attempts');
    const url = `${endpoint.url}/invoke/Oversized/answer`;
    const lastFailure = `${url} answered more than ${MAX_RESPONSE_BYTES} bytes (invoker.max-response-bytes); the answer was discarded`;
    expect(failed).toMatchObject({
      completionResult: 'failure',
      retryCount: 2,
      lastFailureCode: 502,
      lastFailure,
      completionFailure: `${lastFailure} (gave up after 2 attempts)`,
      output: null,
    });
    expect(calls.filter((size) => size === big)).toHaveLength(2);

    const small = await completed(1, 'the small answer on the same subscription to complete');
    expect(small).toMatchObject({ completionResult: 'success', retryCount: 0 });
    expect(JSON.parse(small.output!.toString())).toBe('x'.repeat(10));

    // The same invoker process, still up, runs what comes next.
    const invoker = pipeline.app('invoker-0');
    expect(invoker.process.child.exitCode).toBeNull();
    expect((await fetch(`${invoker.url}/health`)).ok).toBe(true);
    await producer.send(topic, [record(20)]);
    expect(await completed(2, 'a record after the oversized one to complete')).toMatchObject({
      completionResult: 'success',
      retryCount: 0,
    });
    expect(invoker.process.child.exitCode).toBeNull();
  });
});
