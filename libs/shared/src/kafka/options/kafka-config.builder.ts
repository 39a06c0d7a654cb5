import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig } from 'kafkajs';
import type { TlsSettings, TranslatedClientOptions } from './kafka-options.types';

/** Reads a TLS file; a directory (librdkafka allows one for `ssl.ca.location`) yields its files. */
export type TlsFileReader = (path: string) => Buffer[];

export const readTlsFiles: TlsFileReader = (path) => {
  if (!statSync(path).isDirectory()) return [readFileSync(path)];
  return readdirSync(path)
    .filter((name) => /\.(pem|crt|cer)$/i.test(name))
    .sort()
    .map((name) => readFileSync(join(path, name)));
};

function material(
  location: string | undefined,
  pem: string | undefined,
  read: TlsFileReader,
): (string | Buffer)[] | undefined {
  const parts: (string | Buffer)[] = [
    ...(location === undefined ? [] : read(location)),
    ...(pem === undefined ? [] : [pem]),
  ];
  return parts.length === 0 ? undefined : parts;
}

/** Node TLS options for the `ssl.*` settings; files are read now, at client construction. */
export function buildTlsOptions(
  tls: TlsSettings,
  read: TlsFileReader = readTlsFiles,
): ConnectionOptions {
  const options: ConnectionOptions = {};
  const ca = material(tls.caLocation, tls.caPem, read);
  const cert = material(tls.certificateLocation, tls.certificatePem, read);
  const key = material(tls.keyLocation, tls.keyPem, read);
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key.map((pem) => ({ pem, passphrase: tls.keyPassword }));
  if (tls.keystoreLocation !== undefined) {
    const passphrase = tls.keystorePassword;
    options.pfx = read(tls.keystoreLocation).map((buf) => ({ buf, passphrase }));
  }
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
  if (tls.verifyHostname === false) options.checkServerIdentity = () => undefined;
  return options;
}

/**
 * The kafkajs client configuration for translated options. Throws when no brokers are known,
 * which validation at the admin API / config loader is meant to rule out beforehand.
 */
export function buildKafkaConfig(
  client: TranslatedClientOptions,
  read: TlsFileReader = readTlsFiles,
): KafkaConfig {
  const { brokers, tls, ssl, ...rest } = client;
  if (brokers === undefined || brokers.length === 0) {
    throw new Error('no Kafka brokers configured: set bootstrap.servers');
  }
  const config: KafkaConfig = { ...rest, brokers };
  if (ssl === true) config.ssl = tls === undefined ? true : buildTlsOptions(tls, read);
  return config;
}
