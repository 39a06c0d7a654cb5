import type { ConsumerConfig, ProducerConfig, RetryOptions, SASLOptions } from 'kafkajs';

/**
 * Where a set of librdkafka options comes from. Restate layers cluster properties, then
 * subscription options, so checks that need both halves (e.g. SASL credentials) only fail
 * for `merged`; `cluster` reports them as warnings and `subscription` skips them.
 */
export type KafkaOptionScope = 'cluster' | 'subscription' | 'merged';

export interface TranslateOptions {
  /** Default `merged`: the options a consumer will actually run with. */
  scope?: KafkaOptionScope;
}

/**
 * TLS material named by `ssl.*` options. Files are kept as paths and read only when a client
 * is built (see `buildKafkaConfig`), so validating options never touches the disk.
 */
export interface TlsSettings {
  caLocation?: string;
  caPem?: string;
  certificateLocation?: string;
  certificatePem?: string;
  keyLocation?: string;
  keyPem?: string;
  keyPassword?: string;
  /** PKCS#12 bundle (`ssl.keystore.location`) and its password. */
  keystoreLocation?: string;
  keystorePassword?: string;
  /** `enable.ssl.certificate.verification`. */
  rejectUnauthorized?: boolean;
  /** False when `ssl.endpoint.identification.algorithm=none`. */
  verifyHostname?: boolean;
}

/** Client-wide settings (the `new Kafka({...})` part). */
export interface TranslatedClientOptions {
  brokers?: string[];
  clientId?: string;
  /** Whether the connection uses TLS (`security.protocol` ssl / sasl_ssl). */
  ssl?: boolean;
  tls?: TlsSettings;
  sasl?: SASLOptions;
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: RetryOptions;
}

/** Tributary's own subscription options, e.g. `tributary.dead-letter-topic`. */
export type TributaryExtensionOptions = Record<string, string>;

export interface KafkaOptionsTranslation {
  client: TranslatedClientOptions;
  /** `groupId` is only present when `group.id` was given; callers default it. */
  consumer: Partial<ConsumerConfig>;
  producer: Partial<ProducerConfig>;
  /** Per-subscription consumer settings (`consumer.subscribe({...})`). */
  subscription: { fromBeginning?: boolean };
  extensions: TributaryExtensionOptions;
  /** Accepted keys that change nothing here, each naming the key and why. */
  warnings: string[];
  /** Unknown keys and bad values, each naming the key and what to fix; empty when valid. */
  errors: string[];
}
