import type { RetryOptions } from 'kafkajs';
import { parseBrokerCsv, SECURITY_PROTOCOLS } from './broker-address.parser';
import type { GivenOption, TranslationContext } from './kafka-options.context';
import type { TlsSettings } from './kafka-options.types';

/** Applies one option (already known to librdkafka) to the translation. */
export type OptionHandler = (ctx: TranslationContext, option: GivenOption) => void;

type NumericConsumerField =
  | 'sessionTimeout'
  | 'heartbeatInterval'
  | 'rebalanceTimeout'
  | 'minBytes'
  | 'maxBytes'
  | 'maxBytesPerPartition'
  | 'maxWaitTimeInMs';

function consumerInt(field: NumericConsumerField): OptionHandler {
  return (ctx, option) => {
    const n = ctx.int(option);
    if (n !== undefined) ctx.result.consumer[field] = n;
  };
}

function clientInt(field: 'connectionTimeout' | 'requestTimeout'): OptionHandler {
  return (ctx, option) => {
    const n = ctx.int(option);
    if (n !== undefined) ctx.result.client[field] = n;
  };
}

function retryInt(
  field: keyof Pick<RetryOptions, 'retries' | 'initialRetryTime' | 'maxRetryTime'>,
): OptionHandler {
  return (ctx, option) => {
    const n = ctx.int(option);
    if (n !== undefined) ctx.result.client.retry = { ...ctx.result.client.retry, [field]: n };
  };
}

/** Metadata age applies to both the consumer and any producer on the cluster. */
const metadataMaxAge: OptionHandler = (ctx, option) => {
  const n = ctx.int(option);
  if (n === undefined) return;
  ctx.result.consumer.metadataMaxAge = n;
  ctx.result.producer.metadataMaxAge = n;
};

type TlsPathField = keyof Pick<
  TlsSettings,
  | 'caLocation'
  | 'caPem'
  | 'certificateLocation'
  | 'certificatePem'
  | 'keyLocation'
  | 'keyPem'
  | 'keyPassword'
  | 'keystoreLocation'
  | 'keystorePassword'
>;

function tlsString(field: TlsPathField): OptionHandler {
  return (ctx, { key, value }) => {
    ctx.security.tlsKeys.push(key);
    // `probe` asks librdkafka to find the system CA store; Node trusts its own store by default.
    if (field === 'caLocation' && value === 'probe') return;
    ctx.tls()[field] = value;
  };
}

function saslString(field: 'username' | 'password'): OptionHandler {
  return (ctx, { key, value }) => {
    ctx.security.saslKeys.push(key);
    ctx.security[field] = value;
  };
}

const brokers: OptionHandler = (ctx, { key, value }) => {
  const parsed = parseBrokerCsv(value);
  for (const problem of parsed.errors) ctx.error(`option '${key}': ${problem}`);
  if (parsed.errors.length > 0) return;
  ctx.result.client.brokers = parsed.brokers;
  ctx.security.impliedProtocol = parsed.impliedProtocol;
};

const groupId: OptionHandler = (ctx, { key, value }) => {
  if (value.trim() === '') ctx.error(`option '${key}' must not be empty`);
  else ctx.result.consumer.groupId = value;
};

const FROM_BEGINNING = ['earliest', 'smallest', 'beginning'] as const;
const FROM_END = ['latest', 'largest', 'end'] as const;

const autoOffsetReset: OptionHandler = (ctx, option) => {
  const value = ctx.oneOf(option, [...FROM_BEGINNING, ...FROM_END]);
  if (value !== undefined) {
    ctx.result.subscription.fromBeginning = (FROM_BEGINNING as readonly string[]).includes(value);
  }
};

const securityProtocol: OptionHandler = (ctx, option) => {
  ctx.security.protocol = ctx.oneOf(option, SECURITY_PROTOCOLS);
};

const SASL_MECHANISMS = {
  PLAIN: 'plain',
  'SCRAM-SHA-256': 'scram-sha-256',
  'SCRAM-SHA-512': 'scram-sha-512',
} as const;

const saslMechanism: OptionHandler = (ctx, { key, value }) => {
  ctx.security.saslKeys.push(key);
  const name = value.trim().toUpperCase();
  if (name in SASL_MECHANISMS) {
    ctx.security.mechanism = SASL_MECHANISMS[name as keyof typeof SASL_MECHANISMS];
    return;
  }
  const why = ['GSSAPI', 'OAUTHBEARER'].includes(name)
    ? 'is not supported by Tributary (its Kafka client, kafkajs, has no such mechanism)'
    : 'is not a SASL mechanism';
  ctx.error(`option '${key}' value '${value}' ${why}: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`);
};

const certificateVerification: OptionHandler = (ctx, option) => {
  ctx.security.tlsKeys.push(option.key);
  const verify = ctx.bool(option);
  if (verify !== undefined) ctx.tls().rejectUnauthorized = verify;
};

const endpointIdentification: OptionHandler = (ctx, option) => {
  ctx.security.tlsKeys.push(option.key);
  const algorithm = ctx.oneOf(option, ['none', 'https']);
  if (algorithm !== undefined) ctx.tls().verifyHostname = algorithm === 'https';
};

const isolationLevel: OptionHandler = (ctx, option) => {
  const level = ctx.oneOf(option, ['read_committed', 'read_uncommitted']);
  if (level !== undefined) ctx.result.consumer.readUncommitted = level === 'read_uncommitted';
};

const allowAutoCreateTopics: OptionHandler = (ctx, option) => {
  const allow = ctx.bool(option);
  if (allow === undefined) return;
  ctx.result.consumer.allowAutoTopicCreation = allow;
  ctx.result.producer.allowAutoTopicCreation = allow;
};

const maxInFlight: OptionHandler = (ctx, option) => {
  const n = ctx.int(option);
  if (n === undefined) return;
  ctx.result.consumer.maxInFlightRequests = n;
  ctx.result.producer.maxInFlightRequests = n;
};

const idempotence: OptionHandler = (ctx, option) => {
  const idempotent = ctx.bool(option);
  if (idempotent !== undefined) ctx.result.producer.idempotent = idempotent;
};

const rackId: OptionHandler = (ctx, { value }) => {
  ctx.result.consumer.rackId = value;
};

const clientId: OptionHandler = (ctx, { value }) => {
  ctx.result.client.clientId = value;
};

/**
 * Options with a kafkajs equivalent, keyed by the librdkafka property they set (aliases already
 * resolved). Where two properties feed one kafkajs field, the more specific one comes later in
 * this table and wins: request.timeout.ms over socket.timeout.ms, metadata.max.age.ms over
 * topic.metadata.refresh.interval.ms.
 */
export const OPTION_HANDLERS: ReadonlyMap<string, OptionHandler> = new Map<string, OptionHandler>([
  ['metadata.broker.list', brokers],
  ['client.id', clientId],
  ['group.id', groupId],
  ['auto.offset.reset', autoOffsetReset],
  ['security.protocol', securityProtocol],
  ['sasl.mechanisms', saslMechanism],
  ['sasl.username', saslString('username')],
  ['sasl.password', saslString('password')],
  ['ssl.ca.location', tlsString('caLocation')],
  ['ssl.ca.pem', tlsString('caPem')],
  ['ssl.certificate.location', tlsString('certificateLocation')],
  ['ssl.certificate.pem', tlsString('certificatePem')],
  ['ssl.key.location', tlsString('keyLocation')],
  ['ssl.key.pem', tlsString('keyPem')],
  ['ssl.key.password', tlsString('keyPassword')],
  ['ssl.keystore.location', tlsString('keystoreLocation')],
  ['ssl.keystore.password', tlsString('keystorePassword')],
  ['enable.ssl.certificate.verification', certificateVerification],
  ['ssl.endpoint.identification.algorithm', endpointIdentification],
  ['session.timeout.ms', consumerInt('sessionTimeout')],
  ['heartbeat.interval.ms', consumerInt('heartbeatInterval')],
  ['max.poll.interval.ms', consumerInt('rebalanceTimeout')],
  ['fetch.min.bytes', consumerInt('minBytes')],
  ['fetch.max.bytes', consumerInt('maxBytes')],
  ['fetch.message.max.bytes', consumerInt('maxBytesPerPartition')],
  ['fetch.wait.max.ms', consumerInt('maxWaitTimeInMs')],
  ['isolation.level', isolationLevel],
  ['client.rack', rackId],
  ['socket.connection.setup.timeout.ms', clientInt('connectionTimeout')],
  ['socket.timeout.ms', clientInt('requestTimeout')],
  ['request.timeout.ms', clientInt('requestTimeout')],
  ['message.send.max.retries', retryInt('retries')],
  ['retry.backoff.ms', retryInt('initialRetryTime')],
  ['retry.backoff.max.ms', retryInt('maxRetryTime')],
  ['topic.metadata.refresh.interval.ms', metadataMaxAge],
  ['metadata.max.age.ms', metadataMaxAge],
  ['allow.auto.create.topics', allowAutoCreateTopics],
  ['max.in.flight.requests.per.connection', maxInFlight],
  ['enable.idempotence', idempotence],
]);
