/** The environment as `loadConfig` sees it (`process.env` fits). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface LoadConfigInput {
  /** Command-line arguments; `--config-file <path>` / `--config-file=<path>` is looked for. */
  argv: readonly string[];
  env: ConfigEnv;
}

/**
 * A Kafka cluster from `[[ingress.kafka-clusters]]` (or RESTATE_INGRESS__KAFKA_CLUSTERS).
 * `source: 'config'` lets the admin API list it as read-only beside the clusters it manages.
 */
export interface KafkaClusterConfig {
  name: string;
  /** `host:port`, scheme prefixes such as `PLAINTEXT://` stripped. */
  brokers: string[];
  /**
   * librdkafka properties, values as strings, plus `bootstrap.servers` (the brokers joined by
   * ",") and `security.protocol` when a broker prefix like `SASL_SSL://` implies it.
   */
  properties: Record<string, string>;
  source: 'config';
}

/**
 * What ends an invocation that used up its attempts: `pause` keeps it open until resumed or
 * killed, `kill` completes it as failed, `dead-letter` completes it as failed and publishes its
 * record to the subscription's dead-letter topic (as `kill` does when the subscription has one).
 */
export type OnMaxAttempts = 'pause' | 'kill' | 'dead-letter';

/** Restate's retry policy shape, durations in milliseconds. */
export interface RetryPolicyConfig {
  initialIntervalMs: number;
  exponentiationFactor: number;
  maxIntervalMs: number;
  maxAttempts: number;
  onMaxAttempts: OnMaxAttempts;
}

export interface DatabaseConfig {
  url: string;
  /** A Postgres schema instead of `public` (tests use one each). */
  schema?: string;
  /**
   * Where invocations live: bus partition p belongs to `shards[p % shards.length]`. One entry,
   * `url`, unless `database.shards` lists several; `url` keeps the catalog (deployments,
   * subscriptions, Kafka clusters) either way.
   */
  shards: string[];
}

export interface AdminConfig {
  /** `host:port` the admin REST API listens on. */
  bindAddress: string;
  /** Bearer tokens accepted by the admin API; empty means no authentication. */
  tokens: string[];
  maxBodyBytes: number;
  /** Largest `/discover` answer read from a deployment; past it registration fails. */
  maxManifestBytes: number;
  /**
   * Hosts deployments may be registered at (`host` or `host:port`, `*.` prefix for subdomains);
   * empty means any. The admin API fetches whatever URI it is given, so this bounds where.
   */
  deploymentHosts: string[];
}

export interface WorkerConfig {
  bindAddress: string;
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
  maxRecordBytes: number;
  /** Stable worker identity; when unset the worker makes one up at start. */
  id?: string;
}

export interface InvokerConfig {
  bindAddress: string;
  concurrency: number;
  requestTimeoutMs: number;
  /** Key the invoker signs handler requests with; unsigned when unset. */
  signingKey?: string;
  /**
   * Absolute path of the Ed25519 private key (PKCS#8 PEM) that requests to Restate SDK
   * deployments are signed with, as Restate's server does (`x-restate-jwt-v1`): invocations by
   * the invoker, discovery by the admin API. Checked when the configuration loads; unsigned when
   * unset. `loadRequestIdentity` (`@tributary/shared/restate`) turns it into the signer.
   */
  requestIdentityPrivateKeyPemFile?: string;
  /** How long an invocation's claim lasts without renewal; renewed while the handler runs. */
  leaseTtlMs: number;
  /** Largest handler answer read; past it the attempt fails (retryable) and the connection closes. */
  maxResponseBytes: number;
  /** Stable invoker identity; when unset the invoker makes one up at start. */
  id?: string;
}

export interface InvocationConfig {
  retentionMs: number;
  defaultRetryPolicy: RetryPolicyConfig;
}

export interface BusConfig {
  brokers: string[];
  partitions: number;
  replicationFactor: number;
  /**
   * The bus topic's `min.insync.replicas` at creation: `bus.min-insync-replicas`, else 2 when
   * the replication factor is 3 or more, else unset (the broker's default).
   */
  minInsyncReplicas?: number;
  topicPrefix: string;
}

/**
 * OpenTelemetry traces, exported over OTLP/HTTP. The standard variables apply on top:
 * OTEL_TRACES_EXPORTER=otlp turns tracing on and `none` (or OTEL_SDK_DISABLED=true) off;
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT win over `endpoint`;
 * OTEL_SERVICE_NAME over `service-name`; OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_BSP_* are read by the SDK itself.
 */
export interface TracingConfig {
  enabled: boolean;
  /** The collector's base URL (`/v1/traces` is appended); unset: the SDK's default. */
  endpoint?: string;
  /** The resource's `service.name`; unset: `tributary-<app>`. */
  serviceName?: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'json';

export interface LogConfig {
  /** `json`: one JSON object per line (pino); `text`: Nest's readable lines. */
  format: LogFormat;
  /** The lowest level written; each process may set its own (TRIBUTARY_LOG_LEVEL). */
  level: LogLevel;
}

/** The validated configuration every app starts from. Durations are in milliseconds. */
export interface TributaryConfig {
  /** Absolute path of the TOML file read, if any. */
  configFile?: string;
  kafkaClusters: KafkaClusterConfig[];
  database: DatabaseConfig;
  admin: AdminConfig;
  worker: WorkerConfig;
  invoker: InvokerConfig;
  invocation: InvocationConfig;
  bus: BusConfig;
  tracing: TracingConfig;
  log: LogConfig;
  /** Accepted settings that change nothing (e.g. librdkafka keys kafkajs has no use for). */
  warnings: string[];
}
