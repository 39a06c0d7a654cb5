// The baseline: what a team would write by hand. A plain kafkajs consumer that POSTs each record
// to the handler (baseline-handler.ts) and waits for the answer before the next record of the same
// partition: partition-serial (eachMessage), partitions consumed concurrently, offsets
// auto-committed by kafkajs, no durability of its own.
//   node -r ./scripts/register-ts.js bench/compare/procs/baseline-consumer.ts
// Env: BROKERS (comma-separated), TOPIC, GROUP_ID, PARTITIONS, TARGET_URL (the handler's URL).
import { Kafka, logLevel } from 'kafkajs';
import { Agent, request } from 'node:http';
import { exitOnSignal } from '../handler-stats';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const target = new URL(env('TARGET_URL'));
const partitions = Number(env('PARTITIONS'));
const agent = new Agent({ keepAlive: true, maxSockets: partitions });

function post(body: Buffer, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new Error(`handler answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const kafka = new Kafka({
    clientId: 'bench-baseline',
    brokers: env('BROKERS').split(','),
    logLevel: logLevel.WARN,
  });
  const consumer = kafka.consumer({ groupId: env('GROUP_ID') });
  await consumer.connect();
  await consumer.subscribe({ topic: env('TOPIC'), fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: partitions,
    eachMessage: async ({ partition, message }) => {
      await post(message.value ?? Buffer.alloc(0), {
        'x-kafka-timestamp': message.timestamp,
        'x-kafka-partition': String(partition),
        'x-kafka-offset': message.offset,
        'x-kafka-key': message.key?.toString('utf8') ?? '',
      });
    },
  });
  exitOnSignal(() => consumer.disconnect());
  process.stdout.write(`baseline consumer on ${env('TOPIC')} -> ${target.href}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
