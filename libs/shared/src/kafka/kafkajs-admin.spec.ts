import type { Admin, ITopicMetadata } from 'kafkajs';
import { KafkaJSProtocolError } from 'kafkajs';
import { KafkajsAdmin } from './kafkajs.client';

/**
 * `ensureTopics` when kafkajs's own wait for the new topics' leaders gives up on a broker that does
 * not know them yet (UNKNOWN_TOPIC_OR_PARTITION, as a broker of a 3-broker cluster answered): it
 * waits for the leaders itself. A stand-in for kafkajs's Admin plays the cluster.
 */
function fakeAdmin(opts: { createError: Error; metadata: () => ITopicMetadata[] }) {
  const calls = { create: 0, metadata: 0 };
  const admin = {
    connect: () => Promise.resolve(),
    listTopics: () => Promise.resolve([]),
    createTopics: () => {
      calls.create++;
      return Promise.reject(opts.createError);
    },
    fetchTopicMetadata: () => {
      calls.metadata++;
      return Promise.resolve({ topics: opts.metadata() });
    },
  };
  return { admin: new KafkajsAdmin(admin as unknown as Admin), calls };
}

/** A protocol error as kafkajs builds it from a broker's error code (its typings take an Error). */
const protocolError = (type: string, code: number, retriable: boolean, message: string) =>
  new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable }));

const unknownTopic = () =>
  protocolError(
    'UNKNOWN_TOPIC_OR_PARTITION',
    3,
    true,
    'This server does not host this topic-partition',
  );

const partitions = (n: number, leader: number) =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    partitionErrorCode: 0,
    offlineReplicas: [],
  }));

describe('KafkajsAdmin.ensureTopics', () => {
  it('waits for the leaders itself when kafkajs gave up on an unknown topic', async () => {
    let polls = 0;
    const { admin, calls } = fakeAdmin({
      createError: unknownTopic(),
      // Unknown to the broker asked at first, then without leaders, then ready.
      metadata: () => {
        polls++;
        if (polls === 1) return [];
        return [{ name: 'bus', partitions: partitions(4, polls === 2 ? -1 : 2) }];
      },
    });
    await admin.ensureTopics([{ topic: 'bus', partitions: 4, replicationFactor: 3 }]);
    expect(calls.create).toBe(1);
    expect(calls.metadata).toBe(3);
  });

  it('fails with the error kafkajs gave when it is not retriable', async () => {
    const invalid = protocolError(
      'INVALID_REPLICATION_FACTOR',
      38,
      false,
      'Replication factor is invalid',
    );
    const { admin, calls } = fakeAdmin({ createError: invalid, metadata: () => [] });
    await expect(admin.ensureTopics([{ topic: 'bus', partitions: 4 }])).rejects.toBe(invalid);
    expect(calls.metadata).toBe(0);
  });
});
