import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../libs/shared/src/kafka/kafkajs.client';
import { buildKafkaConfig, translateKafkaOptions } from '../../libs/shared/src/kafka/options';

/**
 * The local broker's secured listeners and development credentials, as set up by
 * scripts/infra-up.sh and scripts/kafka/server.properties (docs/security.md).
 */
export const SASL_PLAINTEXT_BROKER = '127.0.0.1:9094';
export const SSL_BROKER = '127.0.0.1:9095';
export const SASL_SSL_BROKER = '127.0.0.1:9096';

export const PLAIN_USER = { username: 'tributary-plain', password: 'tributary-plain-secret' };
export const SCRAM_USER = { username: 'tributary-scram', password: 'tributary-scram-secret' };

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export function userFor(mechanism: SaslMechanism): { username: string; password: string } {
  return mechanism === 'PLAIN' ? PLAIN_USER : SCRAM_USER;
}

/** librdkafka properties for the SASL listener. */
export function saslProperties(
  mechanism: SaslMechanism,
  password = userFor(mechanism).password,
): Record<string, string> {
  return {
    'bootstrap.servers': SASL_PLAINTEXT_BROKER,
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': mechanism,
    'sasl.username': userFor(mechanism).username,
    'sasl.password': password,
  };
}

/** The CA that signed the broker's certificate, where infra-up.sh (scripts/infra-env.sh) put it. */
export function brokerCaFile(): string {
  const cache =
    process.env.TRIBUTARY_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'tributary');
  const state = process.env.TRIBUTARY_KAFKA_STATE || path.join(cache, 'kafka-state');
  const file = path.join(state, 'tls', 'ca.pem');
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run 'npm run infra:up' to create the broker's TLS setup`);
  }
  return file;
}

/**
 * A kafkajs client built the way the apps build theirs: librdkafka properties, translated, then
 * turned into a client configuration. Fails on translation errors. `failFast` drops retries, so
 * that a refused login or handshake fails the first call.
 */
export function kafkaFromProperties(
  props: Record<string, string>,
  label: string,
  { failFast = false } = {},
): Kafka {
  const translated = translateKafkaOptions(props);
  if (translated.errors.length > 0) {
    throw new Error(`invalid test properties: ${translated.errors.join('; ')}`);
  }
  const { client } = translated;
  return createKafka(
    buildKafkaConfig(failFast ? { ...client, retry: { retries: 0 } } : client),
    label,
  );
}

/**
 * TOML lines (`extraConfig` of test/support/pipeline.ts) for a config-file cluster on the SASL
 * listener. They must follow the `[bus]` keys of the generated file, so they start with
 * `bus.brokers`: otherwise the bus would default to this cluster, and the bus speaks plaintext.
 */
export function saslClusterConfig(
  name: string,
  mechanism: SaslMechanism,
  extra: Record<string, string> = {},
): string[] {
  const user = userFor(mechanism);
  return [
    'brokers = ["127.0.0.1:9092"]',
    '[[ingress.kafka-clusters]]',
    `name = "${name}"`,
    `brokers = ["SASL_PLAINTEXT://${SASL_PLAINTEXT_BROKER}"]`,
    `"sasl.mechanism" = "${mechanism}"`,
    `"sasl.username" = "${user.username}"`,
    `"sasl.password" = "${user.password}"`,
    ...Object.entries(extra).map(([key, value]) => `"${key}" = "${value}"`),
  ];
}
