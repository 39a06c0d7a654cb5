import { translateKafkaOptions } from './kafka-options.translator';
import { MAX_REPORTED_ERRORS, MAX_SUGGESTIONS } from './kafka-options.context';
import type { KafkaOptionsTranslation } from './kafka-options.types';
import { LIBRDKAFKA_GLOBAL_KEYS, LIBRDKAFKA_KEYS, LIBRDKAFKA_TOPIC_KEYS } from './librdkafka-keys';

/** Translate and insist on no errors, so effect tests do not pass on a half-failed input. */
function ok(props: Record<string, string>): KafkaOptionsTranslation {
  const result = translateKafkaOptions(props);
  expect(result.errors).toEqual([]);
  return result;
}

describe('translateKafkaOptions: options with a kafkajs effect', () => {
  test.each<[string, Record<string, string>, (t: KafkaOptionsTranslation) => unknown, unknown]>([
    [
      'bootstrap.servers',
      { 'bootstrap.servers': 'PLAINTEXT://a:9092, b:9093' },
      (t) => t.client.brokers,
      ['a:9092', 'b:9093'],
    ],
    [
      'metadata.broker.list',
      { 'metadata.broker.list': 'a:1,b' },
      (t) => t.client.brokers,
      ['a:1', 'b:9092'],
    ],
    ['client.id', { 'client.id': 'me' }, (t) => t.client.clientId, 'me'],
    ['group.id', { 'group.id': 'g1' }, (t) => t.consumer.groupId, 'g1'],
    [
      'session.timeout.ms',
      { 'session.timeout.ms': '45000' },
      (t) => t.consumer.sessionTimeout,
      45000,
    ],
    [
      'heartbeat.interval.ms',
      { 'heartbeat.interval.ms': '3000' },
      (t) => t.consumer.heartbeatInterval,
      3000,
    ],
    [
      'max.poll.interval.ms',
      { 'max.poll.interval.ms': '300000' },
      (t) => t.consumer.rebalanceTimeout,
      300000,
    ],
    ['fetch.min.bytes', { 'fetch.min.bytes': '1' }, (t) => t.consumer.minBytes, 1],
    ['fetch.max.bytes', { 'fetch.max.bytes': '5242880' }, (t) => t.consumer.maxBytes, 5242880],
    [
      'max.partition.fetch.bytes',
      { 'max.partition.fetch.bytes': '1048576' },
      (t) => t.consumer.maxBytesPerPartition,
      1048576,
    ],
    [
      'fetch.message.max.bytes',
      { 'fetch.message.max.bytes': '2048' },
      (t) => t.consumer.maxBytesPerPartition,
      2048,
    ],
    ['fetch.wait.max.ms', { 'fetch.wait.max.ms': '100' }, (t) => t.consumer.maxWaitTimeInMs, 100],
    [
      'isolation.level read_uncommitted',
      { 'isolation.level': 'read_uncommitted' },
      (t) => t.consumer.readUncommitted,
      true,
    ],
    [
      'isolation.level read_committed',
      { 'isolation.level': 'read_committed' },
      (t) => t.consumer.readUncommitted,
      false,
    ],
    ['client.rack', { 'client.rack': 'eu-1a' }, (t) => t.consumer.rackId, 'eu-1a'],
    [
      'socket.connection.setup.timeout.ms',
      { 'socket.connection.setup.timeout.ms': '5000' },
      (t) => t.client.connectionTimeout,
      5000,
    ],
    ['socket.timeout.ms', { 'socket.timeout.ms': '20000' }, (t) => t.client.requestTimeout, 20000],
    [
      'request.timeout.ms wins over socket.timeout.ms',
      { 'request.timeout.ms': '15000', 'socket.timeout.ms': '20000' },
      (t) => t.client.requestTimeout,
      15000,
    ],
    ['retries', { retries: '5' }, (t) => t.client.retry, { retries: 5 }],
    [
      'retry.backoff.ms',
      { 'retry.backoff.ms': '100' },
      (t) => t.client.retry,
      { initialRetryTime: 100 },
    ],
    [
      'retry.backoff.max.ms',
      { 'retry.backoff.max.ms': '1000' },
      (t) => t.client.retry,
      { maxRetryTime: 1000 },
    ],
    [
      'topic.metadata.refresh.interval.ms',
      { 'topic.metadata.refresh.interval.ms': '60000' },
      (t) => [t.consumer.metadataMaxAge, t.producer.metadataMaxAge],
      [60000, 60000],
    ],
    [
      'metadata.max.age.ms wins over topic.metadata.refresh.interval.ms',
      { 'metadata.max.age.ms': '90000', 'topic.metadata.refresh.interval.ms': '60000' },
      (t) => t.consumer.metadataMaxAge,
      90000,
    ],
    [
      'allow.auto.create.topics',
      { 'allow.auto.create.topics': 'false' },
      (t) => [t.consumer.allowAutoTopicCreation, t.producer.allowAutoTopicCreation],
      [false, false],
    ],
    [
      'max.in.flight.requests.per.connection',
      { 'max.in.flight.requests.per.connection': '5' },
      (t) => [t.consumer.maxInFlightRequests, t.producer.maxInFlightRequests],
      [5, 5],
    ],
    ['enable.idempotence', { 'enable.idempotence': 'true' }, (t) => t.producer.idempotent, true],
    [
      'auto.offset.reset earliest',
      { 'auto.offset.reset': 'earliest' },
      (t) => t.subscription.fromBeginning,
      true,
    ],
    [
      'auto.offset.reset smallest',
      { 'auto.offset.reset': 'smallest' },
      (t) => t.subscription.fromBeginning,
      true,
    ],
    [
      'auto.offset.reset beginning',
      { 'auto.offset.reset': 'beginning' },
      (t) => t.subscription.fromBeginning,
      true,
    ],
    [
      'auto.offset.reset latest',
      { 'auto.offset.reset': 'latest' },
      (t) => t.subscription.fromBeginning,
      false,
    ],
    [
      'auto.offset.reset largest',
      { 'auto.offset.reset': 'LARGEST' },
      (t) => t.subscription.fromBeginning,
      false,
    ],
    [
      'auto.offset.reset end',
      { 'auto.offset.reset': 'end' },
      (t) => t.subscription.fromBeginning,
      false,
    ],
    [
      'topic.auto.offset.reset (topic. prefix)',
      { 'topic.auto.offset.reset': 'earliest' },
      (t) => t.subscription.fromBeginning,
      true,
    ],
    ['security.protocol ssl', { 'security.protocol': 'SSL' }, (t) => t.client.ssl, true],
    [
      'security.protocol plaintext',
      { 'security.protocol': 'plaintext' },
      (t) => t.client.ssl,
      false,
    ],
    [
      'ssl.ca.location (a path, not read)',
      { 'security.protocol': 'ssl', 'ssl.ca.location': '/etc/ca.pem' },
      (t) => t.client.tls,
      { caLocation: '/etc/ca.pem' },
    ],
    [
      'ssl.ca.location=probe (Node default CAs)',
      { 'security.protocol': 'ssl', 'ssl.ca.location': 'probe' },
      (t) => t.client.tls,
      undefined,
    ],
    [
      'ssl.certificate.location, ssl.key.location, ssl.key.password',
      {
        'security.protocol': 'ssl',
        'ssl.certificate.location': '/c.pem',
        'ssl.key.location': '/k.pem',
        'ssl.key.password': 'pw',
      },
      (t) => t.client.tls,
      { certificateLocation: '/c.pem', keyLocation: '/k.pem', keyPassword: 'pw' },
    ],
    [
      'ssl.keystore.location and password',
      {
        'security.protocol': 'ssl',
        'ssl.keystore.location': '/k.p12',
        'ssl.keystore.password': 'pw',
      },
      (t) => t.client.tls,
      { keystoreLocation: '/k.p12', keystorePassword: 'pw' },
    ],
    [
      'enable.ssl.certificate.verification',
      { 'security.protocol': 'ssl', 'enable.ssl.certificate.verification': 'false' },
      (t) => t.client.tls?.rejectUnauthorized,
      false,
    ],
    [
      'ssl.endpoint.identification.algorithm=none',
      { 'security.protocol': 'ssl', 'ssl.endpoint.identification.algorithm': 'none' },
      (t) => t.client.tls?.verifyHostname,
      false,
    ],
  ])('%s', (_name, props, pick, expected) => {
    expect(pick(ok(props))).toEqual(expected);
  });
});

describe('translateKafkaOptions: SASL', () => {
  test.each([
    ['PLAIN', 'plain'],
    ['SCRAM-SHA-256', 'scram-sha-256'],
    ['scram-sha-512', 'scram-sha-512'],
  ])('sasl.mechanism %s with credentials becomes kafkajs sasl', (mechanism, expected) => {
    const t = ok({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': mechanism,
      'sasl.username': 'user',
      'sasl.password': 'pass',
    });
    expect(t.client).toMatchObject({
      ssl: true,
      sasl: { mechanism: expected, username: 'user', password: 'pass' },
    });
  });

  it('accepts the sasl.mechanisms spelling and sasl_plaintext (no TLS)', () => {
    const t = ok({
      'security.protocol': 'sasl_plaintext',
      'sasl.mechanisms': 'PLAIN',
      'sasl.username': 'u',
      'sasl.password': 'p',
    });
    expect(t.client).toMatchObject({ ssl: false, sasl: { mechanism: 'plain' } });
  });

  it('takes the protocol from a SASL_SSL:// broker prefix when security.protocol is not given', () => {
    const t = ok({
      'bootstrap.servers': 'SASL_SSL://a:9093',
      'sasl.mechanism': 'PLAIN',
      'sasl.username': 'u',
      'sasl.password': 'p',
    });
    expect(t.client).toMatchObject({
      brokers: ['a:9093'],
      ssl: true,
      sasl: { mechanism: 'plain' },
    });
  });

  it('lets an explicit security.protocol win over a broker prefix, with a warning', () => {
    const t = ok({ 'bootstrap.servers': 'SSL://a:9093', 'security.protocol': 'plaintext' });
    expect(t.client.ssl).toBe(false);
    expect(t.warnings).toEqual([
      "brokers are written as SSL:// but security.protocol is 'plaintext'; using 'plaintext'",
    ]);
  });

  it('is an error to use a SASL protocol without mechanism and credentials', () => {
    const t = translateKafkaOptions({ 'security.protocol': 'sasl_ssl' });
    expect(t.errors).toEqual([
      "security.protocol 'sasl_ssl' needs sasl.mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; librdkafka's default GSSAPI is not supported)",
      "security.protocol 'sasl_ssl' needs sasl.username",
      "security.protocol 'sasl_ssl' needs sasl.password",
    ]);
    expect(t.client.sasl).toBeUndefined();
  });

  it('only warns about missing credentials on a cluster, and says nothing for a subscription', () => {
    const props = {
      'security.protocol': 'sasl_ssl',
      'sasl.mechanism': 'PLAIN',
      'sasl.username': 'u',
    };
    const cluster = translateKafkaOptions(props, { scope: 'cluster' });
    expect(cluster.errors).toEqual([]);
    expect(cluster.warnings).toEqual([
      "security.protocol 'sasl_ssl' needs sasl.password; subscriptions on this cluster must set it",
    ]);
    const subscription = translateKafkaOptions(props, { scope: 'subscription' });
    expect(subscription.errors).toEqual([]);
    expect(subscription.warnings).toEqual([]);
  });

  it('warns that SASL and TLS options do nothing over plaintext', () => {
    const t = ok({ 'sasl.username': 'u', 'ssl.ca.location': '/ca.pem' });
    expect(t.warnings).toEqual([
      "option 'sasl.username' has no effect unless security.protocol is sasl_plaintext or sasl_ssl; ignored",
      "option 'ssl.ca.location' has no effect unless security.protocol is ssl or sasl_ssl; ignored",
    ]);
  });

  it('does not warn about SASL options on a cluster without a protocol (a subscription may set it)', () => {
    expect(translateKafkaOptions({ 'sasl.username': 'u' }, { scope: 'cluster' }).warnings).toEqual(
      [],
    );
  });
});

describe('translateKafkaOptions: warnings for librdkafka keys without an effect', () => {
  test.each(['statistics.interval.ms', 'queued.min.messages', 'debug', 'socket.keepalive.enable'])(
    '%s is accepted with a warning',
    (key) => {
      const t = ok({ [key]: '1' });
      expect(t.warnings).toEqual([
        `option '${key}' is a librdkafka setting with no effect in Tributary; ignored`,
      ]);
    },
  );

  test.each(['enable.auto.commit', 'enable.auto.offset.store', 'auto.commit.interval.ms'])(
    '%s: Tributary commits offsets itself',
    (key) => {
      const t = ok({ [key]: 'false' });
      expect(t.warnings).toEqual([
        `option '${key}' is ignored: Tributary commits offsets itself, after the invocation of each record is durable`,
      ]);
    },
  );

  it('partition.assignment.strategy says why it is ignored', () => {
    expect(ok({ 'partition.assignment.strategy': 'cooperative-sticky' }).warnings).toEqual([
      "option 'partition.assignment.strategy' is ignored: Tributary assigns partitions with its own assigner, TributarySpread (round robin over the group's members from a start chosen by the group id, so small subscriptions spread across workers)",
    ]);
  });
});

describe('translateKafkaOptions: errors', () => {
  it('rejects a key librdkafka does not have, suggesting the closest one', () => {
    expect(translateKafkaOptions({ 'group.di': 'x' }).errors).toEqual([
      "unknown option 'group.di': not a librdkafka configuration property; did you mean 'group.id'?",
    ]);
  });

  it('rejects an unknown key without a suggestion when nothing is close', () => {
    expect(translateKafkaOptions({ 'foo.bar': 'x' }).errors).toEqual([
      "unknown option 'foo.bar': not a librdkafka configuration property",
    ]);
  });

  it('rejects a property only librdkafka code can set', () => {
    expect(translateKafkaOptions({ rebalance_cb: 'x' }).errors).toEqual([
      "option 'rebalance_cb' cannot be set in configuration: librdkafka takes it from code only",
    ]);
  });

  test.each(['abc', '-1', '1.5', ''])(
    'rejects fetch.min.bytes=%j (not a non-negative integer)',
    (value) => {
      expect(translateKafkaOptions({ 'fetch.min.bytes': value }).errors).toEqual([
        `option 'fetch.min.bytes' must be a non-negative integer; got '${value}'`,
      ]);
    },
  );

  it('rejects a bad boolean', () => {
    expect(translateKafkaOptions({ 'enable.idempotence': 'yes' }).errors).toEqual([
      "option 'enable.idempotence' must be true or false; got 'yes'",
    ]);
  });

  it('rejects a bad auto.offset.reset, naming the value and the allowed ones', () => {
    expect(translateKafkaOptions({ 'auto.offset.reset': 'error' }).errors).toEqual([
      "option 'auto.offset.reset' has an unsupported value 'error': use one of earliest, smallest, beginning, latest, largest, end",
    ]);
  });

  it('rejects a bad security.protocol and isolation.level', () => {
    const t = translateKafkaOptions({ 'security.protocol': 'tls', 'isolation.level': 'dirty' });
    expect(t.errors).toEqual([
      "option 'security.protocol' has an unsupported value 'tls': use one of plaintext, ssl, sasl_plaintext, sasl_ssl",
      "option 'isolation.level' has an unsupported value 'dirty': use one of read_committed, read_uncommitted",
    ]);
  });

  test.each([
    ['GSSAPI', 'is not supported by Tributary (its Kafka client, kafkajs, has no such mechanism)'],
    [
      'OAUTHBEARER',
      'is not supported by Tributary (its Kafka client, kafkajs, has no such mechanism)',
    ],
    ['MD5', 'is not a SASL mechanism'],
  ])('rejects sasl.mechanism %s', (mechanism, why) => {
    const t = translateKafkaOptions({ 'sasl.mechanism': mechanism }, { scope: 'subscription' });
    expect(t.errors).toEqual([
      `option 'sasl.mechanism' value '${mechanism}' ${why}: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
    ]);
  });

  it('rejects two spellings of one property with different values, masking secrets', () => {
    const t = translateKafkaOptions({
      'sasl.mechanism': 'PLAIN',
      'sasl.mechanisms': 'SCRAM-SHA-256',
    });
    expect(t.errors[0]).toBe(
      "options 'sasl.mechanism' and 'sasl.mechanisms' set the same librdkafka property to different values ('PLAIN' and 'SCRAM-SHA-256'); keep one",
    );
  });

  it('rejects values that are not strings (options parsed from JSON)', () => {
    const props = { 'session.timeout.ms': 45000 } as unknown as Record<string, string>;
    expect(translateKafkaOptions(props).errors).toEqual([
      "option 'session.timeout.ms' must be a string, as all librdkafka values are; got number",
    ]);
  });

  it('rejects a broker list with an unknown scheme', () => {
    expect(translateKafkaOptions({ 'bootstrap.servers': 'http://a:1' }).errors).toEqual([
      "option 'bootstrap.servers': broker 'http://a:1' has an unknown scheme 'http://'; use PLAINTEXT://, SSL://, SASL_PLAINTEXT://, SASL_SSL:// or none",
    ]);
  });
});

describe('translateKafkaOptions: Tributary extension options', () => {
  it('accepts the known tributary.* keys in subscription options', () => {
    const t = translateKafkaOptions(
      { 'tributary.dead-letter-topic': 'orders.dlq', 'tributary.max-attempts': '5' },
      { scope: 'subscription' },
    );
    expect(t.errors).toEqual([]);
    expect(t.extensions).toEqual({
      'tributary.dead-letter-topic': 'orders.dlq',
      'tributary.max-attempts': '5',
    });
  });

  it('rejects an unknown tributary.* key with a suggestion, and bad values', () => {
    const t = translateKafkaOptions({
      'tributary.dead-leter-topic': 'x',
      'tributary.max-attempts': '0',
      'tributary.on-max-attempts': 'retry',
    });
    expect(t.errors).toEqual([
      "unknown option 'tributary.dead-leter-topic': not a Tributary option (known: tributary.dead-letter-topic, tributary.max-attempts, tributary.on-max-attempts); did you mean 'tributary.dead-letter-topic'?",
      "option 'tributary.max-attempts' must be a positive integer; got '0'",
      `option 'tributary.on-max-attempts' must be "pause", "kill" or "dead-letter"; got 'retry'`,
    ]);
  });

  it('rejects tributary.* keys in cluster properties', () => {
    expect(
      translateKafkaOptions({ 'tributary.max-attempts': '3' }, { scope: 'cluster' }).errors,
    ).toEqual([
      "option 'tributary.max-attempts' belongs in a subscription's options, not in cluster properties",
    ]);
  });
});

describe('librdkafka key list', () => {
  it('is comprehensive (global and topic properties of CONFIGURATION.md)', () => {
    expect(LIBRDKAFKA_GLOBAL_KEYS.size).toBeGreaterThan(140);
    expect(LIBRDKAFKA_TOPIC_KEYS.has('auto.offset.reset')).toBe(true);
    for (const key of ['queued.min.messages', 'linger.ms', 'compression.codec', 'client.rack']) {
      expect(LIBRDKAFKA_KEYS.has(key)).toBe(true);
    }
    // Java client settings are not librdkafka's.
    expect(LIBRDKAFKA_KEYS.has('sasl.jaas.config')).toBe(false);
  });
});

describe('translateKafkaOptions on many bad keys', () => {
  it('lists the first MAX_REPORTED_ERRORS errors, then how many more', () => {
    const props = Object.fromEntries(
      Array.from({ length: 40_000 }, (_, i) => [`no.such.key.${i}`, 'x']),
    );
    const { errors } = translateKafkaOptions(props, { scope: 'cluster' });
    expect(errors).toHaveLength(MAX_REPORTED_ERRORS + 1);
    expect(errors[0]).toBe(
      `unknown option 'no.such.key.0': not a librdkafka configuration property`,
    );
    expect(errors[MAX_REPORTED_ERRORS]).toBe(
      `and ${40_000 - MAX_REPORTED_ERRORS} more errors not listed`,
    );
  });

  it('looks for a likely typo for the first MAX_SUGGESTIONS unknown keys only', () => {
    const typos = Array.from({ length: MAX_SUGGESTIONS + 2 }, (_, i) => `group.di${'x'.repeat(i)}`);
    const props = Object.fromEntries(typos.map((k) => [k, 'x']));
    const { errors } = translateKafkaOptions(props, { scope: 'cluster' });
    expect(errors[0]).toContain("did you mean 'group.id'?");
    expect(errors.slice(MAX_SUGGESTIONS).every((e) => !e.includes('did you mean'))).toBe(true);
  });
});
