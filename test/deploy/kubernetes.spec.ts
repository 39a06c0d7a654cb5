import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseConnectionString } from 'pg-connection-string';
import { Registry } from 'prom-client';
import { ReservedNames } from '../../apps/admin-api/src/common/reserved-names';
import {
  defaultsForNew,
  resolveSubscriptionOptions,
} from '../../apps/admin-api/src/subscriptions/subscription-options.resolver';
import { parseSourceUri } from '../../apps/admin-api/src/subscriptions/subscription-uri.parser';
import { InvokerMetrics } from '../../apps/invoker/src/invoker.metrics';
import { parseBindAddress, SHUTDOWN_TIMEOUT_MS } from '../../libs/shared/src/app/bootstrap';
import type { TributaryConfig } from '../../libs/shared/src/config';
import { mergeKafkaOptions, translateKafkaOptions } from '../../libs/shared/src/kafka/options';
import { ROOT } from '../support/processes';
import {
  containerConfig,
  dataOf,
  type DeploymentDoc,
  KUBERNETES_DIR,
  type Manifest,
  named,
  ofKind,
  podSpec,
  referenceProblems,
  render,
  schemaProblems,
} from './kubernetes-manifests';

/**
 * deploy/kubernetes (docs/kubernetes.md), rendered by `kubectl kustomize` as `kubectl apply -k`
 * would apply it: the example install as shipped, and the same with every optional part on (SASL
 * cluster list, signing key, request identity). Secrets are written the way the example's
 * secrets/README.md tells a user to. No cluster runs here: what a cluster would do (schedule,
 * pull, probe, scale) is not tested.
 */

const APPS = {
  'admin-api': {
    deployment: 'tributary-admin-api',
    bind: (c: TributaryConfig) => c.admin.bindAddress,
  },
  'consumer-worker': {
    deployment: 'tributary-consumer-worker',
    bind: (c: TributaryConfig) => c.worker.bindAddress,
  },
  invoker: { deployment: 'tributary-invoker', bind: (c: TributaryConfig) => c.invoker.bindAddress },
} as const;
type App = keyof typeof APPS;
const APP_NAMES = Object.keys(APPS) as App[];

const DATABASE_URL = 'postgres://tributary:p%40ss@postgres.db.svc:5432/tributary';
const TOKENS = ['3f8a0c6e1d9b4a7f', 'b17e52d0c8a94f36'];
const EXAMPLE_SECRETS = {
  'example/secrets/database-url': `${DATABASE_URL}\n`,
  'example/secrets/admin-tokens': `${TOKENS.join(',')}\n`,
};

const SASL_CLUSTERS =
  '[{name="main",brokers=["SASL_SSL://broker-1.kafka.svc:9096","SASL_SSL://broker-2.kafka.svc:9096"],"sasl.mechanism"="SCRAM-SHA-512","sasl.username"="tributary","sasl.password"="s3cret-pw"}]';
/**
 * The example with every optional part turned on as docs/kubernetes.md says: the request identity
 * component uncommented, and the optional secrets added to the generators.
 */
function fullFiles(): Record<string, string> {
  const edits: [string, string][] = [
    ['  # - ../components/request-identity', '  - ../components/request-identity'],
    [
      '      - admin-tokens=secrets/admin-tokens\n',
      `      - admin-tokens=secrets/admin-tokens
      - kafka-clusters=secrets/kafka-clusters
      - signing-key=secrets/signing-key
  - name: tributary-request-identity
    files:
      - private-key.pem=secrets/private-key.pem
`,
    ],
  ];
  let kustomization = readFileSync(path.join(KUBERNETES_DIR, 'example/kustomization.yaml'), 'utf8');
  for (const [from, to] of edits) {
    if (!kustomization.includes(from)) throw new Error(`example/kustomization.yaml lacks ${from}`);
    kustomization = kustomization.replace(from, to);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    ...EXAMPLE_SECRETS,
    'example/kustomization.yaml': kustomization,
    'example/secrets/kafka-clusters': SASL_CLUSTERS,
    'example/secrets/signing-key': 'an-hmac-signing-key',
    'example/secrets/private-key.pem': privateKey
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  };
}

/** The ENV lines of the Dockerfile's last stage: what the image gives every process. */
function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return Object.fromEntries(
    [...lastStage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]] as const),
  );
}

const deploymentOf = (docs: Manifest[], app: App) =>
  named<DeploymentDoc>(docs, 'Deployment', APPS[app].deployment);
const containerOf = (docs: Manifest[], app: App) => podSpec(deploymentOf(docs, app)).containers[0];
const configOf = (docs: Manifest[], app: App) =>
  containerConfig(docs, deploymentOf(docs, app), imageEnv());

interface ScaledObjectDoc {
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    triggers: { type: string; metadata: Record<string, string> }[];
  };
}

describe('deploy/kubernetes: the example install', () => {
  let docs: Manifest[];

  beforeAll(() => {
    docs = render('example', EXAMPLE_SECRETS);
  });

  it('renders every object the install needs, each valid against its schema', () => {
    expect(
      docs.map((d) => `${d.kind}/${d.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')}`).sort(),
    ).toEqual(
      [
        'ConfigMap/tributary-config-<hash>',
        'Deployment/tributary-admin-api',
        'Deployment/tributary-consumer-worker',
        'Deployment/tributary-invoker',
        'Namespace/tributary',
        'PodDisruptionBudget/tributary-admin-api',
        'PodDisruptionBudget/tributary-consumer-worker',
        'PodDisruptionBudget/tributary-invoker',
        'ScaledObject/tributary-consumer-worker',
        'ScaledObject/tributary-invoker',
        'Secret/tributary-secrets-<hash>',
        'Service/tributary-admin-api',
        'Service/tributary-invoker',
        'Service/tributary-worker',
        'ServiceMonitor/tributary',
      ].sort(),
    );
    expect(schemaProblems(docs)).toEqual([]);
    expect(
      docs.filter((d) => d.kind !== 'Namespace').every((d) => d.metadata.namespace === 'tributary'),
    ).toBe(true);
  });

  it('refers only to objects, keys, labels and ports that exist', () => {
    expect(referenceProblems(docs)).toEqual([]);
  });

  it('gives each process a valid configuration from the ConfigMap and the Secret, through the project loader', () => {
    for (const app of APP_NAMES) {
      const container = containerOf(docs, app);
      const config = configOf(docs, app);
      expect({ app, warnings: config.warnings }).toEqual({ app, warnings: [] });
      // It listens on all interfaces, on the port the Deployment declares and the probes use.
      const { host, port } = parseBindAddress(APPS[app].bind(config));
      expect({ app, host, port }).toEqual({
        app,
        host: '0.0.0.0',
        port: container.ports?.find((p) => p.name === 'http')?.containerPort,
      });
      // The file's trailing newline stays in the value; the driver's URL parser drops it.
      expect(parseConnectionString(config.database.url)).toEqual(
        parseConnectionString(DATABASE_URL),
      );
      expect(parseConnectionString(config.database.url).database).toBe('tributary');
      expect(config.configFile).toMatch(/\/etc\/tributary\/config\/tributary\.toml$/);
      expect(config.log.format).toBe('json');
    }
    const admin = configOf(docs, 'admin-api');
    expect(admin.admin.tokens).toEqual(TOKENS);
    expect(configOf(docs, 'invoker').invoker.id).toMatch(/^tributary-invoker-/);
    expect(configOf(docs, 'consumer-worker').worker.id).toMatch(/^tributary-consumer-worker-/);
    // One file for all three: the same clusters everywhere (docs/operations.md).
    const volumes = APP_NAMES.map(
      (app) =>
        podSpec(deploymentOf(docs, app)).volumes?.find((v) => v.name === 'config')?.configMap?.name,
    );
    expect(new Set(volumes).size).toBe(1);
    expect(volumes[0]).toMatch(/^tributary-config-/);
  });

  it('runs the commands of the npm start scripts, in one image', () => {
    const scripts = (
      JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    for (const app of APP_NAMES) {
      expect(containerOf(docs, app).command?.join(' ')).toBe(scripts[`start:${app}`]);
    }
    expect(new Set(APP_NAMES.map((app) => containerOf(docs, app).image)).size).toBe(1);
  });

  it('probes readiness on /health and liveness on what no dependency outage fails', () => {
    for (const app of APP_NAMES) {
      const c = containerOf(docs, app);
      expect(c.readinessProbe?.httpGet?.path).toBe('/health');
      // /health fails while Postgres or the bus is down, which a restart does not fix.
      for (const probe of [c.livenessProbe, c.startupProbe]) {
        expect(probe?.httpGet?.path ?? 'tcp').not.toBe('/health');
        if (app === 'admin-api') expect(probe?.tcpSocket).toBeDefined();
        else expect(probe?.httpGet?.path).toBe('/metrics');
      }
    }
  });

  it('gives each process longer to stop than its own shutdown deadline', () => {
    for (const app of APP_NAMES) {
      const pod = podSpec(deploymentOf(docs, app));
      const preStop = pod.containers[0].lifecycle?.preStop?.exec?.command ?? [];
      const pause = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
        pause + SHUTDOWN_TIMEOUT_MS / 1000 + 5,
      );
    }
  });

  it('runs unprivileged on a read-only root, with requests and a memory limit', () => {
    for (const app of APP_NAMES) {
      const pod = podSpec(deploymentOf(docs, app));
      const c = pod.containers[0];
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: expect.any(Number) as number,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext?.runAsUser).not.toBe(0);
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources?.requests).toEqual({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      expect(c.resources?.limits?.memory).toBeDefined();
    }
  });

  it('scrapes the workers and invokers under the job names the alert rules use', () => {
    const alerts = readFileSync(path.join(ROOT, 'deploy/prometheus/tributary-alerts.yml'), 'utf8');
    const jobs = new Set([...alerts.matchAll(/job="([^"]+)"/g)].map((m) => m[1]));
    expect(jobs.size).toBeGreaterThan(0);
    // The Prometheus Operator names a ServiceMonitor's job after the Service.
    const monitored = ofKind<{ metadata: { labels: Record<string, string> } }>(docs, 'Service')
      .filter((s) =>
        ['consumer-worker', 'invoker'].includes(s.metadata.labels['app.kubernetes.io/component']),
      )
      .map((s) => s.metadata.name);
    for (const job of jobs) expect(monitored).toContain(job);
    expect(monitored.sort()).toEqual(['tributary-invoker', 'tributary-worker']);
  });

  it("scales the workers on the lag of the example subscription's own consumer group", () => {
    const subscription = JSON.parse(
      readFileSync(path.join(KUBERNETES_DIR, 'example/subscription.json'), 'utf8'),
    ) as { source: string; options: Record<string, string> };
    const source = parseSourceUri(subscription.source);
    const config = configOf(docs, 'consumer-worker');
    const cluster = config.kafkaClusters.find((c) => c.name === source.cluster);
    if (cluster === undefined) throw new Error(`cluster ${source.cluster} is not configured`);
    // What the admin API stores for this subscription on POST /subscriptions.
    const resolved = resolveSubscriptionOptions(
      subscription.options,
      cluster.properties,
      defaultsForNew(cluster.properties, 'sub_10355yt11WmmTueAw3ARzNJ'),
      source.topic,
    );
    expect(
      new ReservedNames(config.bus.topicPrefix).groupProblem(resolved.options['group.id']),
    ).toBeUndefined();
    // Where the worker's consumer starts a group without commits, as the worker merges options.
    const merged = mergeKafkaOptions(cluster.properties, resolved.options);
    const { fromBeginning } = translateKafkaOptions(merged, { scope: 'merged' }).subscription;

    const scaled = named<ScaledObjectDoc>(docs, 'ScaledObject', 'tributary-consumer-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe(APPS['consumer-worker'].deployment);
    expect(scaled.spec.triggers).toEqual([
      {
        type: 'kafka',
        metadata: expect.objectContaining({
          bootstrapServers: cluster.brokers.join(','),
          consumerGroup: resolved.options['group.id'],
          topic: source.topic,
          offsetResetPolicy: fromBeginning ? 'earliest' : 'latest',
        }) as Record<string, string>,
      },
    ]);
  });

  it("scales the invokers on their open invocations, a metric the invoker exports, up to the bus's partitions", () => {
    const scaled = named<ScaledObjectDoc>(docs, 'ScaledObject', 'tributary-invoker');
    expect(scaled.spec.scaleTargetRef.name).toBe(APPS.invoker.deployment);
    expect(scaled.spec.maxReplicaCount).toBe(configOf(docs, 'invoker').bus.partitions);
    const [trigger] = scaled.spec.triggers;
    expect(trigger.type).toBe('prometheus');
    const query = /^sum\((\w+)\{(.*)\}\)$/.exec(trigger.metadata.query);
    if (query === null) throw new Error(`unexpected query ${trigger.metadata.query}`);
    const [, metric, matchers] = query;
    const labels = Object.fromEntries(
      [...matchers.matchAll(/(\w+)(!?=)"([^"]*)"/g)].map((m) => [m[1], `${m[2]}${m[3]}`]),
    );

    const registry = new Registry();
    const metrics = new InvokerMetrics(registry);
    expect(registry.getSingleMetric(metric)).toBe(metrics.invocations);
    expect(labels).toEqual({
      namespace: `=${scaled.metadata.namespace}`,
      job: `=${named(docs, 'Service', 'tributary-invoker').metadata.name}`,
      status: '!=paused',
    });
  });
});

describe('deploy/kubernetes: with SASL clusters, a signing key and request identity', () => {
  let docs: Manifest[];

  beforeAll(() => {
    docs = render('example', fullFiles());
  });

  it('is valid and refers only to what exists', () => {
    expect(schemaProblems(docs)).toEqual([]);
    expect(referenceProblems(docs)).toEqual([]);
    expect(
      ofKind(docs, 'Secret').map((s) => s.metadata.name.replace(/-[a-z0-9]{10}$/, '')),
    ).toEqual(['tributary-request-identity', 'tributary-secrets']);
    expect(Object.keys(dataOf(ofKind(docs, 'Secret')[1])).sort()).toEqual([
      'admin-tokens',
      'database-url',
      'kafka-clusters',
      'signing-key',
    ]);
  });

  it('loads the SASL cluster list from the Secret, and the key file where the config points', () => {
    for (const app of APP_NAMES) {
      const config = configOf(docs, app);
      expect(config.warnings).toEqual([
        "RESTATE_INGRESS__KAFKA_CLUSTERS replaces the config file's [[ingress.kafka-clusters]]",
      ]);
      expect(config.kafkaClusters.map((c) => [c.name, c.properties['sasl.password']])).toEqual([
        ['main', 's3cret-pw'],
      ]);
      // The request identity key is read (and checked) by the loader itself, from the mount.
      const keyFile = config.invoker.requestIdentityPrivateKeyPemFile;
      if (app === 'consumer-worker') expect(keyFile).toBeUndefined();
      else expect(keyFile).toMatch(/\/etc\/tributary\/request-identity\/private-key\.pem$/);
    }
    // The invokers sign invocations, the admin API discovery, with the same key.
    expect(configOf(docs, 'invoker').invoker.signingKey).toBe('an-hmac-signing-key');
    expect(configOf(docs, 'admin-api').invoker.signingKey).toBe('an-hmac-signing-key');
  });
});

describe('deploy/kubernetes: the checks themselves', () => {
  it('fails a rendering that misses its secrets, naming the file', () => {
    expect(() => render('example', {})).toThrow(/secrets\/database-url/);
  });

  it('reports what a broken install would get wrong', () => {
    const docs = render('example', EXAMPLE_SECRETS);
    const worker = docs.find(
      (d) => d.metadata.name === 'tributary-consumer-worker' && d.kind === 'Deployment',
    ) as DeploymentDoc;
    const container = podSpec(worker).containers[0];
    container.ports = [{ name: 'web', containerPort: 9072 }];
    const databaseUrl = container.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom
      ?.secretKeyRef;
    if (databaseUrl === undefined) throw new Error('the worker takes DATABASE_URL from no Secret');
    databaseUrl.key = 'database-uri';
    const pdb = named<{ spec: Record<string, unknown> }>(
      docs,
      'PodDisruptionBudget',
      'tributary-invoker',
    );
    pdb.spec.unhealthyPodEvictionPolicy = 'Sometimes';
    const problems = [...schemaProblems(docs), ...referenceProblems(docs)];
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^PodDisruptionBudget\/tributary-invoker: .*unhealthyPodEvictionPolicy/,
        ),
        expect.stringMatching(
          /^Deployment\/tributary-consumer-worker: env DATABASE_URL: no key database-uri in Secret tributary-secrets-/,
        ),
        'Deployment/tributary-consumer-worker: readiness probe port http is not a container port',
        'Service/tributary-worker: targetPort http is not a port of Deployment/tributary-consumer-worker',
      ]),
    );
  });
});
