import * as t from '@tributary/sdk';
import { randomBytes } from 'node:crypto';
import { FindOptionsWhere, IsNull, Not } from 'typeorm';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';
import {
  kafkaFromProperties,
  PLAIN_USER,
  SASL_PLAINTEXT_BROKER,
  saslClusterConfig,
  saslProperties,
  SCRAM_USER,
} from './secure-broker';

/**
 * Secrets (SASL passwords and user names, TLS passwords, the signing key) go into the config
 * file, `POST /kafka-clusters` and subscription options; the three apps then consume over SASL,
 * run signed handlers, dead-letter and fail to log in. No admin API response and no line any app
 * printed, from start to shutdown, may contain one of them.
 */
describe('secrets never in responses or logs (three apps as processes)', () => {
  const unique = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
  const secret = {
    signingKey: unique('signing-key'),
    configSslKeyPassword: unique('config-ssl-key-password'),
    apiKeystorePassword: unique('api-keystore-password'),
    optionSslKeyPassword: unique('option-ssl-key-password'),
    wrongSaslPassword: unique('wrong-sasl-password'),
    refusedSaslPassword: unique('refused-sasl-password'),
  };
  // The broker's real development credentials are secrets here too.
  const allSecrets = [
    ...Object.values(secret),
    SCRAM_USER.password,
    PLAIN_USER.password,
    SCRAM_USER.username,
    PLAIN_USER.username,
  ];
  const apiCluster = uniqueName('secure-api');
  const responses: string[] = [];
  const kafka = kafkaFromProperties(saslProperties('PLAIN'), 'secrets-test');
  const ran: number[] = [];
  let pipeline: Pipeline;
  let endpoint: t.RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  let stopped = false;

  /** An admin API call whose response text is kept for the final check. */
  async function call(method: string, route: string, body?: unknown) {
    const res = await pipeline.admin(method, route, body);
    responses.push(`${method} ${route} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  }

  async function subscribe(cluster: string, sink: string, options: Record<string, string>) {
    const topic = uniqueName('secrets');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const res = await call('POST', '/subscriptions', {
      source: `kafka://${cluster}/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest', ...options },
    });
    expect(res.status).toBe(201);
    return { topic, id: res.body.id as string };
  }

  const invocations = (sub: string, where: FindOptionsWhere<InvocationEntity> = {}) =>
    pipeline.ds.getRepository(InvocationEntity).find({ where: { subscriptionId: sub, ...where } });

  beforeAll(async () => {
    const sink = t.service({
      name: 'Vault',
      handlers: {
        keep: async (_ctx: t.Context, input: { n: number }) => {
          ran.push(input.n);
          return input.n;
        },
        reject: async () => {
          throw new t.TerminalError('this record is refused');
        },
      },
    });
    endpoint = await t.serve({ services: [sink], port: 0, signingKey: secret.signingKey });
    pipeline = await Pipeline.start('secrets', {
      extraConfig: [
        ...saslClusterConfig('secure', 'SCRAM-SHA-512', {
          'ssl.key.password': secret.configSslKeyPassword,
        }),
        '[invoker]',
        `signing-key = "${secret.signingKey}"`,
      ],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    expect((await call('POST', '/deployments', { uri: endpoint.url })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    if (!stopped) await pipeline?.stop();
    await endpoint?.close();
  });

  it('consumes over SASL with secrets from the config file, the API and subscription options', async () => {
    const created = await call('POST', '/kafka-clusters', {
      name: apiCluster,
      properties: {
        'bootstrap.servers': SASL_PLAINTEXT_BROKER,
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'PLAIN',
        'sasl.username': PLAIN_USER.username,
        'sasl.password': PLAIN_USER.password,
        'ssl.keystore.password': secret.apiKeystorePassword,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.properties['sasl.password']).toBe('***');
    expect(created.body.properties['ssl.keystore.password']).toBe('***');

    // Options repeat or replace the cluster's credentials (SCRAM over a PLAIN cluster).
    const onConfig = await subscribe('secure', 'service://Vault/keep', {
      'sasl.password': SCRAM_USER.password,
      'ssl.key.password': secret.optionSslKeyPassword,
    });
    const onApi = await subscribe(apiCluster, 'service://Vault/keep', {
      'sasl.mechanism': 'SCRAM-SHA-256',
      'sasl.username': SCRAM_USER.username,
      'sasl.password': SCRAM_USER.password,
    });
    // The invoker writes this one's dead letter over SASL with the API cluster's credentials.
    const deadLettered = await subscribe(apiCluster, 'service://Vault/reject', {
      'tributary.dead-letter-topic': uniqueName('secrets-dlq'),
    });
    await producer.send(onConfig.topic, [{ key: null, value: '{"n":1}' }]);
    await producer.send(onApi.topic, [{ key: null, value: '{"n":2}' }]);
    await producer.send(deadLettered.topic, [{ key: null, value: '{"n":3}' }]);

    for (const sub of [onConfig.id, onApi.id]) {
      const [row] = await waitFor(
        async () => {
          const rows = await invocations(sub, { status: 'completed' });
          return rows.length === 1 ? rows : undefined;
        },
        `the invocation of ${sub} to complete\n${pipeline.outputs()}`,
        60_000,
        200,
      );
      expect(row.completionResult).toBe('success');
    }
    expect(ran.sort()).toEqual([1, 2]);
    await waitFor(
      async () => (await invocations(deadLettered.id, { deadLetteredAt: Not(IsNull()) })).length,
      `the dead letter of ${deadLettered.id}\n${pipeline.outputs()}`,
      60_000,
      200,
    );
  });

  it('reports a refused login without the password', async () => {
    const refused = await subscribe('secure', 'service://Vault/keep', {
      'sasl.password': secret.wrongSaslPassword,
    });
    const status = await waitFor(async () => {
      const res = await call('GET', `/subscriptions/${refused.id}`);
      const body = res.body as { partitions_error: string | null; options: Record<string, string> };
      return body.partitions_error ? body : undefined;
    }, 'the lag inspector to report the refused login');
    expect(status.partitions_error).toMatch(/authentication failed/i);
    expect(status.options['sasl.password']).toBe('***');
    // The worker retries and logs each refusal.
    await waitFor(
      () =>
        pipeline.apps.some((a) =>
          /could not start consuming.*authentication failed/i.test(a.process.output()),
        ),
      `the worker to log the refused login\n${pipeline.outputs()}`,
      30_000,
      200,
    );
  });

  it('answers bad requests without echoing secret values', async () => {
    const badCluster = await call('POST', '/kafka-clusters', {
      name: uniqueName('bad-secure'),
      properties: {
        'bootstrap.servers': SASL_PLAINTEXT_BROKER,
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'GSSAPI',
        'sasl.username': PLAIN_USER.username,
        'sasl.password': secret.refusedSaslPassword,
        'sasl.passwrd': secret.refusedSaslPassword,
      },
    });
    expect(badCluster.status).toBe(400);
    expect(badCluster.body.message).toContain("'sasl.passwrd'");
    const badOptions = await call('POST', '/subscriptions', {
      source: 'kafka://secure/any-topic',
      sink: 'service://Vault/keep',
      options: { 'sasl.password': secret.refusedSaslPassword, 'ssl.key.password': 7 },
    });
    expect(badOptions.status).toBe(400);
  });

  it('shows no secret in any admin API response', async () => {
    const subs = await call('GET', '/subscriptions');
    for (const s of subs.body.subscriptions as { id: string }[]) {
      await call('GET', `/subscriptions/${s.id}`);
    }
    await call('GET', '/kafka-clusters');
    await call('GET', '/kafka-clusters/secure?include_subscriptions=true');
    await call('GET', `/kafka-clusters/${apiCluster}?include_subscriptions=true`);
    await call('GET', '/deployments');
    await call('GET', '/invocations');
    expect(responses.length).toBeGreaterThan(10);
    const text = responses.join('\n');
    expect(text).toContain('"sasl.password":"***"');
    for (const s of allSecrets)
      expect({ secret: s, found: text.includes(s) }).toEqual({ secret: s, found: false });
  });

  it('prints no secret in the output of any app, shutdown included', async () => {
    stopped = true;
    await pipeline.stop();
    const outputs = pipeline.apps.map((a) => ({ app: a.name, out: a.process.output() }));
    for (const { out } of outputs) expect(out).toContain('listening on http://127.0.0.1:');
    // The config file's TLS password reached the warnings, as a key name only.
    expect(outputs[0].out).toContain("option 'ssl.key.password' has no effect");
    for (const { app, out } of outputs) {
      for (const s of allSecrets) {
        const at = out.indexOf(s);
        expect({ app, secret: s, context: at < 0 ? null : out.slice(at - 200, at + 100) }).toEqual({
          app,
          secret: s,
          context: null,
        });
      }
    }
  });
});
