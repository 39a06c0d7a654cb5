// Readiness probe for the local broker or cluster: produces one record to a scratch topic and
// reads it back; with --expect-brokers N, also checks that N brokers are registered first.
// Exits 0 when all that works, 1 otherwise.
// Usage: node kafka-roundtrip.js host:port[,host:port...] [--quiet] [--expect-brokers N]
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, ...flags] = process.argv.slice(2);
const quiet = flags.includes('--quiet');
const expectIndex = flags.indexOf('--expect-brokers');
const expectBrokers = expectIndex < 0 ? 0 : Number(flags[expectIndex + 1]);
const topic = '__tributary_infra_probe';

async function main() {
  const kafka = new Kafka({
    clientId: 'tributary-infra-probe',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 1, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `${topic}-${process.pid}-${Date.now()}` });
  try {
    await admin.connect();
    if (expectBrokers > 0) {
      const { brokers } = await admin.describeCluster();
      if (brokers.length < expectBrokers)
        throw new Error(`${brokers.length} of ${expectBrokers} brokers registered`);
    }
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const marker = `probe-${process.pid}-${Date.now()}`;
    await producer.connect();
    const [{ baseOffset }] = await producer.send({ topic, messages: [{ value: marker }] });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const seen = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record read back within 15s')), 15000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value && message.value.toString() === marker) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
      consumer.seek({ topic, partition: 0, offset: baseOffset });
    });
    await seen;
    await admin.deleteGroups([consumer.groupId]).catch(() => undefined);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    if (!quiet) console.error(`[infra] kafka round trip failed: ${err.message}`);
    process.exit(1);
  },
);
