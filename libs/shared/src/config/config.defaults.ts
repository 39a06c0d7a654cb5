/**
 * Defaults for every optional setting. The retry policy and retention are Restate's, so a
 * handler behaves the same under Tributary as under Restate unless configured otherwise.
 */
export const CONFIG_DEFAULTS = {
  database: { url: 'postgres://postgres@127.0.0.1:5432/tributary' },
  admin: {
    bindAddress: '127.0.0.1:9070',
    tokens: [] as string[],
    maxBodyBytes: 1024 * 1024,
    maxManifestBytes: 4 * 1024 * 1024,
    deploymentHosts: [] as string[],
  },
  worker: {
    bindAddress: '127.0.0.1:9072',
    leaseTtl: '10s',
    heartbeatInterval: '2s',
    maxRecordBytes: 1024 * 1024,
  },
  invoker: {
    bindAddress: '127.0.0.1:9071',
    concurrency: 256,
    requestTimeout: '60s',
    leaseTtl: '10s',
    maxResponseBytes: 32 * 1024 * 1024,
  },
  invocation: {
    retention: '24h',
    defaultRetryPolicy: {
      initialInterval: '500ms',
      exponentiationFactor: 2.0,
      maxInterval: '60s',
      maxAttempts: 70,
      onMaxAttempts: 'pause' as const,
    },
  },
  bus: {
    /** Used only when no Kafka cluster is configured; otherwise the first cluster's brokers. */
    brokers: ['127.0.0.1:9092'],
    partitions: 16,
    replicationFactor: 1,
    topicPrefix: 'tributary',
  },
  /** Off unless turned on here or by OTEL_TRACES_EXPORTER=otlp; see `TracingConfig`. */
  tracing: { enabled: false },
  /** `json` is the default under NODE_ENV=production. */
  log: { format: 'text' as const, level: 'info' as const },
} as const;
