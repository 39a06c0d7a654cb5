import type { Admin, Consumer } from 'kafkajs';
import { createKafka, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { CLUSTER_BROKERS, clusterDown, clusterUp, leaderOf, signalNode } from '../support/cluster';
import { uniqueName, waitFor } from '../support/kafka';

/**
 * What the worker relies on before it commits a source offset: a send that resolved wrote every
 * one of its records, even when a partition leader dies under it. kafkajs 2.2.4 retries a send
 * only to the brokers that have not answered yet, found by the leaders of its first attempt:
 * partitions whose leadership moved to a broker that had answered were left out, and the send
 * resolved without them (the scale-out suite's records lost around a broker SIGKILL).
 */
const PARTITIONS = 12;
const MAX_OUTSTANDING = 64;

jest.setTimeout(300_000);

describe('a bus send across a SIGKILL of a partition leader (3-broker cluster)', () => {
  let admin: Admin;
  let consumer: Consumer | undefined;
  let producer: KafkajsProducer;
  let ticker: NodeJS.Timeout | undefined;
  /** A node stopped with SIGSTOP and not yet killed (killed on the way out if the test failed). */
  let stopped: number | undefined;

  beforeAll(async () => {
    const brokers = await clusterUp();
    // Retries enough to outlast the election of new leaders (the brokers' 9 s session timeout).
    const kafka = createKafka(
      { brokers, clientId: 'tributary-failover', retry: { retries: 30 } },
      'test',
    );
    admin = kafka.admin();
    await admin.connect();
    producer = KafkajsProducer.create(kafka);
    consumer = kafka.consumer({ groupId: uniqueName('failover') });
  });

  afterAll(async () => {
    clearInterval(ticker);
    if (stopped !== undefined) signalNode(stopped, 'SIGKILL');
    await producer?.close();
    await consumer?.disconnect();
    await admin?.disconnect();
    await clusterDown();
  });

  it('resolves only once every record of the send is written', async () => {
    const topic = uniqueName('failover');
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: PARTITIONS,
          replicationFactor: CLUSTER_BROKERS,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
    });
    // Sends start every few milliseconds, each without waiting for the ones before it (as the
    // batches of different partitions do in a worker), at most MAX_OUTSTANDING at a time. Each
    // carries one record per partition, so it goes to every leader at once.
    const acknowledged = new Set<string>();
    const outstanding = new Set<Promise<void>>();
    let next = 0;
    let started = 0;
    let failedSends = 0;
    const sendOne = () => {
      const ids = Array.from({ length: PARTITIONS }, () => String(next++));
      const records = ids.map((id, partition) => ({ key: null, value: id, partition }));
      const sent: Promise<void> = producer.send(topic, records).then(
        () => ids.forEach((id) => acknowledged.add(id)),
        // A send that fails is not acknowledged: the worker reads its batch again.
        () => void failedSends++,
      );
      outstanding.add(sent);
      void sent.finally(() => outstanding.delete(sent));
      started++;
    };
    ticker = setInterval(() => {
      // While the leader is stopped nothing completes: sends go on starting regardless.
      if (outstanding.size < MAX_OUTSTANDING || stopped !== undefined) sendOne();
    }, 20);

    await waitFor(() => acknowledged.size >= 100 * PARTITIONS, 'sends before the kill', 60_000);
    // The leader of partition 0 stops reading: sends started from now on are in its socket,
    // unread, while the other leaders write and acknowledge their part. Then it dies, and
    // those records were never written anywhere.
    const leader = await leaderOf(admin, topic, 0);
    signalNode(leader, 'SIGSTOP');
    stopped = leader;
    const startedBeforeStop = started;
    await waitFor(
      () => started >= startedBeforeStop + 10,
      `10 sends started while broker ${leader} is stopped`,
      10_000,
    );
    signalNode(leader, 'SIGKILL');
    stopped = undefined;
    const killedAt = Date.now();
    await waitFor(
      async () => {
        const l = await leaderOf(admin, topic, 0);
        return l !== leader && l >= 0;
      },
      `a new leader for partition 0 after broker ${leader} was killed`,
      60_000,
      250,
    );
    const failoverMs = Date.now() - killedAt;
    const afterFailover = acknowledged.size;
    await waitFor(
      () => acknowledged.size >= afterFailover + 100 * PARTITIONS,
      'sends after the new leader',
      120_000,
    );
    clearInterval(ticker);
    await Promise.all(outstanding);
    await clusterUp();

    // Read the whole topic back (records written twice by a retried send are fine).
    const written = Number(
      (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0),
    );
    const seen = new Set<string>();
    let read = 0;
    await consumer!.connect();
    await consumer!.subscribe({ topics: [topic], fromBeginning: true });
    await consumer!.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.add(m.value!.toString());
        read += batch.messages.length;
      },
    });
    await waitFor(() => read >= written, `all ${written} records read back`, 60_000, 250);
    const missing = [...acknowledged].filter((id) => !seen.has(id));
    process.stdout.write(
      `\nnew leader ${failoverMs} ms after the SIGKILL; ${acknowledged.size} records acknowledged in sends of ${PARTITIONS}, ${started} sends, ${failedSends} sends failed, ${written} written, ${missing.length} acknowledged but missing\n`,
    );
    expect(missing).toEqual([]);
  });
});
