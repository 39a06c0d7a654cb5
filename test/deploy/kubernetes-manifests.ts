import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Model } from '@kubernetes-models/base';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { loadConfig, type TributaryConfig } from '../../libs/shared/src/config';
import { ROOT } from '../support/processes';

/**
 * The Kubernetes manifests under deploy/kubernetes as `kubectl apply -k` would send them: rendered
 * by kubectl's own kustomize, checked against the API schemas, and cross-checked (names, labels,
 * ports, keys) the way the API server and kubelet would resolve them. No cluster is involved.
 */

export const KUBERNETES_DIR = path.join(ROOT, 'deploy/kubernetes');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export type PodSpec = NonNullable<NonNullable<IDeployment['spec']>['template']['spec']>;
export type Container = PodSpec['containers'][number];
export type Probe = NonNullable<Container['readinessProbe']>;

/** Secrets a user wrote by hand into a `secrets/` directory: never copied. */
const handWrittenSecret = (file: string) =>
  path.basename(path.dirname(file)) === 'secrets' &&
  !['README.md', '.gitignore'].includes(path.basename(file));

/**
 * Copies deploy/kubernetes to a scratch directory (without hand-written secrets), writes `files`
 * into it and renders `overlay` with `kubectl kustomize`.
 */
export function render(overlay: string, files: Readonly<Record<string, string>>): Manifest[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-k8s-'));
  let yaml: string;
  try {
    cpSync(KUBERNETES_DIR, dir, { recursive: true, filter: (file) => !handWrittenSecret(file) });
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), content);
    }
    yaml = execFileSync('kubectl', ['kustomize', path.join(dir, overlay)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'kubectl not found: this test renders deploy/kubernetes with `kubectl kustomize` (kubectl 1.27 or later), as `kubectl apply -k` does; install kubectl',
      );
    }
    const stderr = (error as { stderr?: string }).stderr;
    throw new Error(`kubectl kustomize ${overlay} failed: ${stderr ?? String(error)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return parseAllDocuments(yaml).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`rendered YAML: ${doc.errors.join('; ')}`);
    return doc.toJS() as Manifest;
  });
}

type ModelClass = new (data: never) => Model<unknown>;

/** The schema of each kind the manifests may hold: Kubernetes 1.27's, KEDA's, the Prometheus Operator's. */
const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

const ref = (doc: Manifest): string => `${doc.kind}/${doc.metadata.name}`;

/**
 * kustomize writes a long Secret value as base64 broken into lines, which the API server accepts
 * (Go's base64 decoder skips newlines) but the schema's `byte` format does not: joined here.
 */
function forSchema(doc: Manifest): Manifest {
  if (doc.kind !== 'Secret' || doc.data === undefined) return doc;
  const data = Object.entries(doc.data as Record<string, string>);
  return { ...doc, data: Object.fromEntries(data.map(([k, v]) => [k, v.replace(/[\r\n]/g, '')])) };
}

/** One line per document that fails its schema, or whose kind has none here. */
export function schemaProblems(docs: readonly Manifest[]): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    const model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    if (model === undefined) {
      problems.push(`${ref(doc)}: no schema for ${doc.apiVersion} ${doc.kind} here`);
      continue;
    }
    try {
      new model(forSchema(doc) as never).validate();
    } catch (error: unknown) {
      problems.push(`${ref(doc)}: ${(error as Error).message}`);
    }
  }
  return problems;
}

export function ofKind<T>(docs: readonly Manifest[], kind: string): (Manifest & T)[] {
  return docs.filter((doc) => doc.kind === kind) as (Manifest & T)[];
}

export function named<T>(docs: readonly Manifest[], kind: string, name: string): Manifest & T {
  const found = ofKind<T>(docs, kind).find((doc) => doc.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} named ${name}`);
  return found;
}

export type DeploymentDoc = Manifest & { spec: NonNullable<IDeployment['spec']> };

export function podSpec(deployment: DeploymentDoc): PodSpec {
  const spec = deployment.spec.template.spec;
  if (spec === undefined) throw new Error(`${ref(deployment)} has no pod spec`);
  return spec;
}

/** `selector` selects `labels`: each of its labels is there with the same value. */
export function selects(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const wanted = Object.entries(selector ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A metav1.LabelSelector against labels (In, NotIn, Exists, DoesNotExist). */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values }) => {
    const value = labels?.[key];
    if (operator === 'In') return value !== undefined && (values ?? []).includes(value);
    if (operator === 'NotIn') return value === undefined || !(values ?? []).includes(value);
    if (operator === 'Exists') return value !== undefined;
    if (operator === 'DoesNotExist') return value === undefined;
    throw new Error(`unknown selector operator ${operator}`);
  });
  return byLabels && byExpressions;
}

/** Whether `port` (a name or a number) is one of the container's ports. */
export function isContainerPort(container: Container, port: string | number): boolean {
  return (container.ports ?? []).some((p) =>
    typeof port === 'number' ? p.containerPort === port : p.name === port,
  );
}

export function probePort(probe: Probe): string | number | undefined {
  return probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
}

/** A Secret's or ConfigMap's values, decoded. */
export function dataOf(doc: Manifest): Record<string, string> {
  const data = (doc.data ?? {}) as Record<string, string>;
  const decode = doc.kind === 'Secret';
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      decode ? Buffer.from(value, 'base64').toString('utf8') : value,
    ]),
  );
}

/**
 * Every reference from a Deployment, Service, PodDisruptionBudget, ServiceMonitor or
 * ScaledObject to something that must exist in the same rendering, one problem per line.
 */
export function referenceProblems(docs: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const deployments = ofKind<DeploymentDoc>(docs, 'Deployment');
  const exists = (kind: string, name: string) =>
    docs.some((doc) => doc.kind === kind && doc.metadata.name === name);
  const hasKey = (kind: string, name: string, key: string) =>
    docs.some((d) => d.kind === kind && d.metadata.name === name && key in dataOf(d));

  for (const deployment of deployments) {
    const pod = podSpec(deployment);
    const where = ref(deployment);
    if (!matchesSelector(deployment.spec.selector, deployment.spec.template.metadata?.labels)) {
      problems.push(`${where}: its selector does not select its own pod template`);
    }
    for (const volume of pod.volumes ?? []) {
      if (
        volume.configMap &&
        !volume.configMap.optional &&
        !exists('ConfigMap', volume.configMap.name ?? '')
      ) {
        problems.push(`${where}: volume ${volume.name}: no ConfigMap ${volume.configMap.name}`);
      }
      if (
        volume.secret &&
        !volume.secret.optional &&
        !exists('Secret', volume.secret.secretName ?? '')
      ) {
        problems.push(`${where}: volume ${volume.name}: no Secret ${volume.secret.secretName}`);
      }
    }
    for (const container of pod.containers) {
      for (const mount of container.volumeMounts ?? []) {
        if (!(pod.volumes ?? []).some((v) => v.name === mount.name)) {
          problems.push(`${where}: mount ${mount.mountPath}: no volume ${mount.name}`);
        }
      }
      for (const { name, valueFrom } of container.env ?? []) {
        const secret = valueFrom?.secretKeyRef;
        if (secret && !secret.optional && !hasKey('Secret', secret.name ?? '', secret.key)) {
          problems.push(`${where}: env ${name}: no key ${secret.key} in Secret ${secret.name}`);
        }
        const config = valueFrom?.configMapKeyRef;
        if (config && !config.optional && !hasKey('ConfigMap', config.name ?? '', config.key)) {
          problems.push(`${where}: env ${name}: no key ${config.key} in ConfigMap ${config.name}`);
        }
      }
      for (const [kind, probe] of [
        ['readiness', container.readinessProbe],
        ['liveness', container.livenessProbe],
        ['startup', container.startupProbe],
      ] as const) {
        const port = probe === undefined ? undefined : probePort(probe);
        if (probe === undefined) problems.push(`${where}: ${container.name} has no ${kind} probe`);
        else if (port === undefined || !isContainerPort(container, port)) {
          problems.push(`${where}: ${kind} probe port ${String(port)} is not a container port`);
        }
      }
    }
  }

  const servedBy = (selector: Record<string, string> | undefined) =>
    deployments.filter((d) => selects(selector, d.spec.template.metadata?.labels));
  for (const service of ofKind<{
    spec: {
      selector?: Record<string, string>;
      ports?: { name?: string; targetPort?: string | number }[];
    };
  }>(docs, 'Service')) {
    const backends = servedBy(service.spec.selector);
    if (backends.length !== 1) {
      problems.push(`${ref(service)}: selects ${backends.length} Deployments, expected 1`);
      continue;
    }
    const container = podSpec(backends[0]).containers[0];
    for (const port of service.spec.ports ?? []) {
      if (port.targetPort === undefined || !isContainerPort(container, port.targetPort)) {
        problems.push(
          `${ref(service)}: targetPort ${String(port.targetPort)} is not a port of ${ref(backends[0])}`,
        );
      }
    }
  }

  for (const pdb of ofKind<{ spec: { selector: LabelSelector } }>(docs, 'PodDisruptionBudget')) {
    const covered = deployments.filter((d) =>
      matchesSelector(pdb.spec.selector, d.spec.template.metadata?.labels),
    );
    if (covered.length !== 1)
      problems.push(`${ref(pdb)}: selects ${covered.length} Deployments, expected 1`);
  }

  const services = ofKind<{ spec: { ports?: { name?: string }[] } }>(docs, 'Service');
  for (const monitor of ofKind<{
    spec: { selector: LabelSelector; endpoints: { port?: string }[] };
  }>(docs, 'ServiceMonitor')) {
    const scraped = services.filter((s) =>
      matchesSelector(monitor.spec.selector, s.metadata.labels),
    );
    if (scraped.length === 0) problems.push(`${ref(monitor)}: selects no Service`);
    for (const service of scraped) {
      for (const endpoint of monitor.spec.endpoints) {
        if (!(service.spec.ports ?? []).some((p) => p.name === endpoint.port)) {
          problems.push(`${ref(monitor)}: ${ref(service)} has no port named ${endpoint.port}`);
        }
      }
    }
  }

  for (const scaled of ofKind<{ spec: { scaleTargetRef: { name: string; kind?: string } } }>(
    docs,
    'ScaledObject',
  )) {
    const target = scaled.spec.scaleTargetRef;
    if ((target.kind ?? 'Deployment') !== 'Deployment' || !exists('Deployment', target.name)) {
      problems.push(`${ref(scaled)}: no Deployment ${target.name} to scale`);
    }
  }
  return problems;
}

/**
 * The configuration a Deployment's container starts with, loaded by the project's own loader:
 * its command line and environment as the kubelet would give them (Secret and ConfigMap keys
 * resolved, the pod name for `metadata.name`, the image's own ENV from the Dockerfile), its
 * ConfigMap and Secret volumes written out under a scratch root that stands for `/`.
 */
export function containerConfig(
  docs: readonly Manifest[],
  deployment: DeploymentDoc,
  imageEnv: Readonly<Record<string, string>>,
): TributaryConfig {
  const root = mkdtempSync(path.join(tmpdir(), 'tributary-pod-'));
  try {
    return loadPodConfig(docs, deployment, imageEnv, root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function loadPodConfig(
  docs: readonly Manifest[],
  deployment: DeploymentDoc,
  imageEnv: Readonly<Record<string, string>>,
  root: string,
): TributaryConfig {
  const pod = podSpec(deployment);
  const container = pod.containers[0];
  const mounts = container.volumeMounts ?? [];
  const valuesOf = (kind: string, name: string | undefined) =>
    dataOf(named(docs, kind, name ?? ''));
  for (const mount of mounts) {
    const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
    const dir = path.join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    const files = volume?.configMap
      ? valuesOf('ConfigMap', volume.configMap.name)
      : volume?.secret
        ? valuesOf('Secret', volume.secret.secretName)
        : {};
    for (const [key, value] of Object.entries(files)) writeFileSync(path.join(dir, key), value);
  }
  // A path under a mount is found under the scratch root.
  const inPod = (value: string) =>
    mounts.some((m) => value.startsWith(`${m.mountPath}/`)) ? path.join(root, value) : value;
  const env: Record<string, string> = { ...imageEnv };
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (value !== undefined) env[name] = inPod(value);
    const secret = valueFrom?.secretKeyRef;
    if (secret) {
      const data = dataOf(named(docs, 'Secret', secret.name ?? ''));
      if (secret.key in data) env[name] = data[secret.key];
    }
    if (valueFrom?.fieldRef?.fieldPath === 'metadata.name') {
      env[name] = `${deployment.metadata.name}-5d9c7b6f4-x2x7q`;
    }
  }
  const argv = [...(container.command ?? []), ...(container.args ?? [])].map(inPod);
  return loadConfig({ argv, env });
}
