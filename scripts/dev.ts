/**
 * `npm run dev`: the whole system on this machine. Expects Kafka and Postgres up (the npm script
 * runs infra-up first) and a build in dist/. Starts the three apps and the example handlers,
 * registers the example, subscribes Counter/add to a demo topic, sends a few events, and prints
 * what to try next. A tiny HTTP producer on :9069 lets you send events with curl.
 * Ctrl-C stops everything cleanly.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createServer, Server } from 'node:http';
import path from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { APP_NODE_FLAGS } from './node-flags';

const root = path.resolve(__dirname, '../..');
const ADMIN = 'http://127.0.0.1:9070';
const EXAMPLE = 'http://127.0.0.1:9080';
const PRODUCER_PORT = 9069;
const DEMO_TOPIC = 'tributary-demo';
/** The Restate SDK example (examples/restate/cart.ts) and its topic. */
const RESTATE_EXAMPLE = 'http://127.0.0.1:9081';
const CART_TOPIC = 'tributary-demo-cart';
const BROKER = process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092';

const env = {
  ...process.env,
  RESTATE_INGRESS__KAFKA_CLUSTERS:
    process.env.RESTATE_INGRESS__KAFKA_CLUSTERS ??
    `[{name="local",brokers=["PLAINTEXT://${BROKER}"]}]`,
};

const children: { name: string; proc: ChildProcess }[] = [];
const colors = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[32m'];

function start(name: string, script: string, nodeFlags: readonly string[] = []): void {
  const proc = spawn(process.execPath, [...nodeFlags, path.join(root, script)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const color = colors[children.length % colors.length];
  const prefix = `${color}${name.padEnd(15)}\x1b[0m| `;
  const pipe = (data: Buffer) =>
    data
      .toString()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .forEach((l) => process.stdout.write(prefix + l + '\n'));
  proc.stdout.on('data', pipe);
  proc.stderr.on('data', pipe);
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${code ?? signal}); stopping everything`);
      void stop(1);
    }
  });
  children.push({ name, proc });
}

async function waitReady(name: string, url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not become ready at ${url} within 60s`);
}

async function call(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

let stopping = false;
let producerServer: Server | undefined;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  producerServer?.close();
  for (const c of children) c.proc.kill('SIGTERM');
  await Promise.all(
    children.map(
      (c) => new Promise((r) => (c.proc.exitCode !== null ? r(null) : c.proc.on('exit', r))),
    ),
  );
  process.exit(code);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  // The console's address comes first, before the apps' own output; it answers once they are up.
  console.log(
    `\x1b[1mWeb console: ${ADMIN}/ui\x1b[0m (starting the apps; open it once they are up)`,
  );

  const kafka = new Kafka({
    clientId: 'tributary-dev',
    brokers: [BROKER],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: DEMO_TOPIC, numPartitions: 3 },
      { topic: CART_TOPIC, numPartitions: 3 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();

  // admin-api first: it runs the migrations the others then find done.
  start('admin-api', 'dist/apps/admin-api/src/main.js', APP_NODE_FLAGS['admin-api']);
  await waitReady('admin-api', `${ADMIN}/health`);
  start(
    'consumer-worker',
    'dist/apps/consumer-worker/src/main.js',
    APP_NODE_FLAGS['consumer-worker'],
  );
  start('invoker', 'dist/apps/invoker/src/main.js', APP_NODE_FLAGS.invoker);
  start('example', 'dist/examples/handlers/main.js');
  start('restate-example', 'dist/examples/restate/cart.js');
  await Promise.all([
    waitReady('consumer-worker', 'http://127.0.0.1:9072/health'),
    waitReady('invoker', 'http://127.0.0.1:9071/health'),
    waitReady('example', `${EXAMPLE}/discover`),
  ]);

  const deployment = await call('POST', `${ADMIN}/deployments`, { uri: EXAMPLE, force: true });
  if (deployment.status >= 300)
    throw new Error(`registering the example failed: ${deployment.text}`);
  const subscription = await call('POST', `${ADMIN}/subscriptions`, {
    source: `kafka://local/${DEMO_TOPIC}`,
    sink: 'service://Counter/add',
    options: { 'auto.offset.reset': 'earliest' },
  });
  if (subscription.status >= 300)
    throw new Error(`creating the demo subscription failed: ${subscription.text}`);

  // The Restate SDK example serves HTTP/2 only: registering it is the readiness check.
  let cart = await call('POST', `${ADMIN}/deployments`, { uri: RESTATE_EXAMPLE, force: true });
  for (let i = 0; i < 40 && cart.status >= 300; i++) {
    await new Promise((r) => setTimeout(r, 250));
    cart = await call('POST', `${ADMIN}/deployments`, { uri: RESTATE_EXAMPLE, force: true });
  }
  if (cart.status >= 300) throw new Error(`registering the Restate example failed: ${cart.text}`);
  const cartSubscription = await call('POST', `${ADMIN}/subscriptions`, {
    source: `kafka://local/${CART_TOPIC}`,
    sink: 'service://Cart/add',
    options: { 'auto.offset.reset': 'earliest' },
  });
  if (cartSubscription.status >= 300)
    throw new Error(`creating the cart subscription failed: ${cartSubscription.text}`);

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  producerServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const match = /^\/produce\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end('POST /produce/<topic>?key=<key> with the record value as the body\n');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      producer
        .send({
          topic: decodeURIComponent(match[1]),
          messages: [{ key: url.searchParams.get('key'), value: Buffer.concat(chunks) }],
        })
        .then(([meta]) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify(meta) + '\n'),
        )
        .catch((err: unknown) => res.writeHead(502).end(`${String(err)}\n`));
    });
  });
  await new Promise<void>((r) => producerServer!.listen(PRODUCER_PORT, '127.0.0.1', r));
  await producer.send({
    topic: DEMO_TOPIC,
    messages: [1, 2, 3].map((n) => ({ key: 'alice', value: String(n) })),
  });

  const subId = (JSON.parse(subscription.text) as { id: string }).id;
  console.log(`
\x1b[1mWeb console: ${ADMIN}/ui\x1b[0m (subscriptions, records, invocations, state; docs/console.md)

\x1b[1mTributary is running.\x1b[0m Admin API ${ADMIN}, invoker :9071, worker :9072, example handlers ${EXAMPLE}.
Subscription ${subId}: kafka://local/${DEMO_TOPIC} -> service://Counter/add (three events for key 'alice' sent).

Send an event (adds 5 to the counter of 'bob'):
  curl -X POST 'http://127.0.0.1:${PRODUCER_PORT}/produce/${DEMO_TOPIC}?key=bob' -d '5'
List invocations:
  curl '${ADMIN}/invocations?limit=5'
Look at one, and at its output:
  curl ${ADMIN}/invocations/<id>
  curl ${ADMIN}/invocations/<id>/output
The subscription, with per-partition lag:
  curl ${ADMIN}/subscriptions/${subId}

A service written with Restate's own SDK (examples/restate/cart.ts, on ${RESTATE_EXAMPLE}) runs too:
  curl -X POST 'http://127.0.0.1:${PRODUCER_PORT}/produce/${CART_TOPIC}?key=alice' -d '{"sku":"tea","quantity":2}'
  curl '${ADMIN}/invocations?limit=1'

Ctrl-C stops everything.
`);
}

main().catch((err: unknown) => {
  console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  void stop(1);
});
