import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createKafka,
  KafkajsAdmin,
  KafkajsProducer,
} from '../../libs/shared/src/kafka/kafkajs.client';
import { uniqueName, waitFor } from '../support/kafka';
import { adminCall, AdminResponse } from '../support/pipeline';
import { freePort, ROOT } from '../support/processes';

/**
 * `docker compose up`, run for real (`npm run test:compose`, not part of `npm test`): builds the
 * local base images (scripts/docker-base-images.sh), brings up docker-compose.yml under a project
 * name of its own with free host ports, registers the example handler service, subscribes
 * Counter/add to a topic, produces records to the compose Kafka through its host listener and sees
 * them completed through the admin API; then scales the consumer workers to 3 with
 * `up --scale consumer-worker=3` and sees the subscription's partitions spread over the three.
 * `down -v` removes the containers, volumes and the images built for the project, pass or fail.
 */
const MINUTE = 60_000;
const PARTITIONS = 6;
const WORKERS = 3;
const RECORDS = 60;
const KEYS = 12;

jest.setTimeout(15 * MINUTE);

const run = promisify(execFile);

/** Progress on stderr at once (jest shows console output when the file is done): this runs for minutes. */
function step(what: string): void {
  process.stderr.write(`[compose test] ${new Date().toISOString()} ${what}\n`);
}

interface Failed {
  message: string;
  stdout?: string;
  stderr?: string;
}

/** Runs a command; a failure names it and ends with the last lines it printed. */
async function sh(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, args, {
      cwd: ROOT,
      env: opts.env,
      timeout: opts.timeoutMs,
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Failed;
    const tail = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message.split('\n')[0]}\n${tail}`);
  }
}

/** `docker compose` where the plugin is installed, else the standalone `docker-compose`. */
async function composeCommand(): Promise<string[]> {
  try {
    await run('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    return ['docker-compose'];
  }
}

/** The `KEY=value` lines scripts/docker-base-images.sh prints: the base images to build with. */
function parseImages(stdout: string): Record<string, string> {
  const images: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
    if (m) images[m[1]] = m[2];
  }
  for (const name of ['NODE_IMAGE', 'KAFKA_IMAGE', 'POSTGRES_IMAGE']) {
    if (!images[name]) throw new Error(`docker-base-images.sh printed no ${name}:\n${stdout}`);
  }
  return images;
}

function expectStatus(res: AdminResponse, status: number, what: string): void {
  if (res.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
}

interface PartitionState {
  partition: number;
  worker: string | null;
}

describe('docker compose up: the whole system in containers', () => {
  const project = `tributary-test-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const topic = uniqueName('compose');
  const keyPrefix = randomBytes(3).toString('hex');
  const expectedCounts = new Map<string, number>();
  let compose: (args: string[], timeoutMs?: number) => Promise<string>;
  let upStarted = false;
  let adminUrl: string;
  let kafkaAdmin: KafkajsAdmin | undefined;
  let producer: KafkajsProducer | undefined;
  let subscriptionId: string;

  const admin = (method: string, p: string, body?: unknown) => adminCall(adminUrl, method, p, body);

  /** Produces RECORDS records over KEYS keys and waits until `total` invocations completed. */
  async function produceAndComplete(round: number, total: number): Promise<void> {
    const records = Array.from({ length: RECORDS }, (_, i) => {
      const key = `${keyPrefix}-${i % KEYS}`;
      const n = ((i + round) % 5) + 1;
      expectedCounts.set(key, (expectedCounts.get(key) ?? 0) + n);
      return { key, value: JSON.stringify(n) };
    });
    step(`producing ${RECORDS} records; waiting for ${total} completed invocations`);
    await producer!.send(topic, records);
    const completed = await waitFor(
      async () => {
        const res = await admin(
          'GET',
          `/invocations?subscription_id=${subscriptionId}&status=completed&limit=1000`,
        );
        expectStatus(res, 200, 'listing the completed invocations');
        const rows = res.body.invocations as { completion_result: string }[];
        if (rows.length < total) throw new Error(`${rows.length} of ${total} completed`);
        return rows;
      },
      `${total} completed invocations of ${subscriptionId}`,
      3 * MINUTE,
      1000,
    );
    expect(completed).toHaveLength(total);
    expect(completed.every((r) => r.completion_result === 'success')).toBe(true);
    // Each key's counter holds the sum of its records: every record applied exactly once.
    for (const [key, sum] of expectedCounts) {
      const res = await admin('GET', `/services/Counter/state/${key}`);
      expectStatus(res, 200, `the state of Counter/${key}`);
      const entries = res.body.entries as { name: string; value: string }[];
      const count = entries.find((e) => e.name === 'count');
      expect([key, JSON.parse(Buffer.from(count!.value, 'base64').toString())]).toEqual([key, sum]);
    }
  }

  beforeAll(async () => {
    step('building the base images (scripts/docker-base-images.sh)');
    const base = await sh('bash', [path.join(ROOT, 'scripts/docker-base-images.sh')], {
      timeoutMs: 30 * MINUTE,
    });
    const ports = {
      TRIBUTARY_ADMIN_PORT: await freePort(),
      TRIBUTARY_INVOKER_PORT: await freePort(),
      TRIBUTARY_EXAMPLE_PORT: await freePort(),
      TRIBUTARY_POSTGRES_PORT: await freePort(),
      TRIBUTARY_KAFKA_PORT: await freePort(),
    };
    const env = { ...process.env, ...parseImages(base.stdout) };
    for (const [name, port] of Object.entries(ports)) env[name] = String(port);
    const command = await composeCommand();
    compose = async (args, timeoutMs = 10 * MINUTE) => {
      const composeArgs = [...command.slice(1), '-p', project, ...args];
      const { stdout } = await sh(command[0], composeArgs, { env, timeoutMs });
      return stdout;
    };

    upStarted = true;
    step(`${command.join(' ')} -p ${project} up -d --build`);
    await compose(['up', '-d', '--build'], 30 * MINUTE);
    step('waiting for the admin API');
    adminUrl = `http://127.0.0.1:${ports.TRIBUTARY_ADMIN_PORT}`;
    await waitFor(
      // Each attempt bounded: one made while the port is published but the app not yet listening
      // was seen never to settle.
      async () => (await fetch(`${adminUrl}/health`, { signal: AbortSignal.timeout(5000) })).ok,
      `the admin API's health at ${adminUrl}`,
      3 * MINUTE,
      1000,
    );
    const kafka = createKafka(
      { brokers: [`127.0.0.1:${ports.TRIBUTARY_KAFKA_PORT}`], clientId: 'tributary-compose-test' },
      'test',
    );
    kafkaAdmin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    step('up');
  }, 45 * MINUTE);

  afterAll(async () => {
    await producer?.close();
    await kafkaAdmin?.close();
    if (upStarted) {
      step('down -v');
      await compose(['down', '-v', '--rmi', 'local', '--remove-orphans']);
    }
  }, 5 * MINUTE);

  it('registers the example service and completes the records produced to its Kafka', async () => {
    step('registering http://example:9080');
    // The admin API reaches the example handler service by its compose service name.
    await waitFor(
      async () => {
        const res = await admin('POST', '/deployments', { uri: 'http://example:9080' });
        expectStatus(res, 201, 'registering http://example:9080');
        return true;
      },
      'the example handler service to register',
      2 * MINUTE,
      1000,
    );
    // A fresh broker on a busy machine may answer the creation before it serves the topic's metadata.
    await waitFor(
      async () => {
        await kafkaAdmin!.ensureTopics([{ topic, partitions: PARTITIONS }]);
        return (await kafkaAdmin!.partitionCount(topic)) === PARTITIONS;
      },
      `the topic ${topic} with ${PARTITIONS} partitions`,
      MINUTE,
      1000,
    );
    const sub = await admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink: 'service://Counter/add',
      options: { 'auto.offset.reset': 'earliest' },
    });
    expectStatus(sub, 201, 'creating the subscription');
    subscriptionId = sub.body.id as string;

    await produceAndComplete(1, RECORDS);
  });

  it(`scales to ${WORKERS} consumer workers and spreads the partitions over them`, async () => {
    expect(subscriptionId).toBeDefined();
    step(`up -d --scale consumer-worker=${WORKERS}`);
    await compose(['up', '-d', '--scale', `consumer-worker=${WORKERS}`]);
    const containers = (await compose(['ps', '-q', 'consumer-worker'])).trim().split(/\s+/);
    expect(containers).toHaveLength(WORKERS);

    // A worker's id is `<hostname>-<pid>`, and a container's hostname is its id's first 12 digits.
    const partitions = await waitFor(
      async () => {
        const res = await admin('GET', `/subscriptions/${subscriptionId}`);
        expectStatus(res, 200, 'reading the subscription');
        const parts = res.body.partitions as PartitionState[];
        const workers = new Set(parts.map((p) => p.worker));
        if (parts.length !== PARTITIONS || workers.has(null) || workers.size !== WORKERS) {
          throw new Error(`partitions held by ${JSON.stringify(parts.map((p) => p.worker))}`);
        }
        return parts;
      },
      `the ${PARTITIONS} partitions to spread over ${WORKERS} workers`,
      3 * MINUTE,
      1000,
    );
    const hosts = new Set(partitions.map((p) => p.worker!.replace(/-\d+$/, '')));
    expect([...hosts].sort()).toEqual(containers.map((id) => id.slice(0, 12)).sort());
    console.log(
      `partitions of ${topic} by worker: ${partitions
        .map((p) => `${p.partition}:${p.worker}`)
        .join(' ')}`,
    );

    // The three workers go on turning records into invocations.
    await produceAndComplete(2, 2 * RECORDS);
  });
});
