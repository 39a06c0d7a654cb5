import { Inject, Injectable } from '@nestjs/common';
import {
  KafkaClusterConfig,
  KafkaClusterEntity,
  MASKED_VALUE,
  maskSecrets,
  restoreMaskedSecrets,
  SubscriptionEntity,
  translateKafkaOptions,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { AdminError } from '../common/admin-error';
import { KafkaClusterRepository } from './kafka-cluster.repository';
import { isKafkaClusterName, KAFKA_CLUSTER_NAME_RULE } from './kafka-cluster.naming';
import { ReservedNames } from '../common/reserved-names';
import { kafkaValueProblems } from './kafka-value.limits';

/** Where a cluster is defined: the config file (read-only) or the admin API. */
export type KafkaClusterSource = 'config' | 'api';

/** Restate's `SimpleKafkaClusterResponse` plus `source`; secrets are always masked. */
export interface KafkaClusterView {
  name: string;
  properties: Record<string, string>;
  created_at: string;
  source: KafkaClusterSource;
}

export interface KafkaClusterSubscriptionView {
  id: string;
  source: string;
  sink: string;
  options: Record<string, string>;
}

/** Restate's `KafkaClusterResponse` (`GET /kafka-clusters/{name}`). */
export interface KafkaClusterDetailView extends KafkaClusterView {
  subscriptions: KafkaClusterSubscriptionView[];
}

/** Answer to a create or update: the cluster, and the properties that have no effect here. */
export interface KafkaClusterWriteView extends KafkaClusterView {
  warnings: string[];
}

/** A cluster with its real (unmasked) properties, for code that connects to it. */
export interface ResolvedKafkaCluster {
  name: string;
  properties: Record<string, string>;
  source: KafkaClusterSource;
}

const BROKER_KEYS = ['bootstrap.servers', 'metadata.broker.list'];

/**
 * Kafka clusters: those of the config file, listed read-only, and those managed through the
 * admin API, stored in Postgres. A name is never defined in both places.
 */
@Injectable()
export class KafkaClusterService {
  private readonly configClusters: ReadonlyMap<string, KafkaClusterConfig>;
  /** Config clusters exist since the process read its config. */
  private readonly configLoadedAt = new Date().toISOString();
  private readonly reserved: ReservedNames;

  constructor(
    private readonly repository: KafkaClusterRepository,
    @Inject(TRIBUTARY_CONFIG) config: TributaryConfig,
  ) {
    this.configClusters = new Map(config.kafkaClusters.map((c) => [c.name, c]));
    this.reserved = new ReservedNames(config.bus.topicPrefix);
  }

  async list(): Promise<KafkaClusterView[]> {
    const fromConfig = [...this.configClusters.values()].map((c) => this.configView(c));
    const stored = (await this.repository.list()).map(storedView);
    return [...fromConfig, ...stored];
  }

  async get(name: string, includeSubscriptions: boolean): Promise<KafkaClusterDetailView> {
    checkName(name);
    const config = this.configClusters.get(name);
    const view = config ? this.configView(config) : await this.storedOrFail(name);
    const subscriptions = includeSubscriptions
      ? (await this.repository.subscriptionsOn(name)).map(subscriptionView)
      : [];
    return { ...view, subscriptions };
  }

  async create(name: string, given: Record<string, string>): Promise<KafkaClusterWriteView> {
    // A new cluster has no stored secret for a masked value to stand for.
    const properties = withStoredSecrets(name, given, {});
    const warnings = this.validateProperties(name, properties);
    if (this.configClusters.has(name)) {
      throw AdminError.conflict(
        `kafka cluster '${name}' conflicts with static configuration: it is defined in the config file. Cluster names in schema registry cannot override statically configured clusters; choose another name.`,
      );
    }
    const created = await this.repository.insert(name, properties);
    if (!created)
      throw AdminError.conflict(`kafka cluster '${name}' already exists in schema registry`);
    return { ...storedView(created), warnings };
  }

  /**
   * Replaces the properties. A secret given as `***` (what GET shows) keeps its stored value, so
   * writing back a GET's answer changes nothing.
   */
  async update(name: string, given: Record<string, string>): Promise<KafkaClusterWriteView> {
    checkName(name);
    this.refuseConfigCluster(name, 'updated');
    const stored = await this.repository.find(name);
    if (!stored) throw notFound(name);
    const properties = withStoredSecrets(name, given, stored.properties);
    const warnings = this.validateProperties(name, properties);
    const updated = await this.repository.replaceProperties(name, properties);
    if (!updated) throw notFound(name);
    return { ...storedView(updated), warnings };
  }

  /** Refuses to orphan subscriptions unless `force`; with it, they stay, reading from nowhere. */
  async remove(name: string, force: boolean): Promise<void> {
    checkName(name);
    this.refuseConfigCluster(name, 'removed');
    if (!(await this.repository.find(name))) throw notFound(name);
    if (!force) {
      const [first] = await this.repository.subscriptionsOn(name);
      if (first) {
        throw AdminError.conflict(
          `Removing the kafka cluster '${name}' leads to subscription '${first.id}' being orphan. Remove the subscription first, or use the 'force' flag.`,
        );
      }
    }
    await this.repository.delete(name);
  }

  /** The cluster a subscription reads from, secrets included; undefined when unknown. */
  async resolve(name: string): Promise<ResolvedKafkaCluster | undefined> {
    const config = this.configClusters.get(name);
    if (config) return { name, properties: { ...config.properties }, source: 'config' };
    const stored = await this.repository.find(name);
    return stored && { name, properties: stored.properties, source: 'api' };
  }

  /** Every cluster name, config file first: for messages such as "Available clusters: [...]". */
  async names(): Promise<string[]> {
    return (await this.list()).map((c) => c.name);
  }

  /**
   * Restate's broker check, then the librdkafka translation and Tributary's reserved consumer
   * groups (a `group.id` here is every new subscription's default); returns the warnings.
   */
  private validateProperties(name: string, properties: Record<string, string>): string[] {
    if (!BROKER_KEYS.some((key) => Object.hasOwn(properties, key))) {
      throw AdminError.badRequest(
        `kafka cluster '${name}' properties must contain either 'bootstrap.servers' or 'metadata.broker.list'`,
      );
    }
    const translated = translateKafkaOptions(properties, { scope: 'cluster' });
    const errors = [...kafkaValueProblems(properties), ...translated.errors];
    const groupId = properties['group.id'];
    const reservedGroup =
      typeof groupId === 'string' ? this.reserved.groupProblem(groupId) : undefined;
    if (reservedGroup !== undefined) errors.push(reservedGroup);
    if (errors.length > 0) throw invalidProperties(name, errors);
    return translated.warnings;
  }

  private configView(cluster: KafkaClusterConfig): KafkaClusterView {
    return {
      name: cluster.name,
      properties: maskSecrets(cluster.properties),
      created_at: this.configLoadedAt,
      source: 'config',
    };
  }

  private async storedOrFail(name: string): Promise<KafkaClusterView> {
    const stored = await this.repository.find(name);
    if (!stored) throw notFound(name);
    return storedView(stored);
  }

  private refuseConfigCluster(name: string, action: 'updated' | 'removed'): void {
    if (this.configClusters.has(name)) {
      throw AdminError.conflict(
        `kafka cluster '${name}' cannot be ${action}, because it was defined in the configuration file. Update the configuration file directly, or remove the cluster from it`,
      );
    }
  }
}

function invalidProperties(name: string, errors: string[]): AdminError {
  return AdminError.badRequest(
    `invalid properties for kafka cluster '${name}': ${errors.join('; ')}`,
  );
}

/** `given` with masked secrets replaced by the stored values; a 400 when one has none. */
function withStoredSecrets(
  name: string,
  given: Readonly<Record<string, string>>,
  stored: Readonly<Record<string, string>>,
): Record<string, string> {
  const { values, unknown } = restoreMaskedSecrets(given, stored);
  if (unknown.length > 0) {
    throw invalidProperties(
      name,
      unknown.map(
        (key) =>
          `property '${key}' is "${MASKED_VALUE}", the mask responses show instead of a secret, but the cluster has no stored value of '${key}' to keep; send the real value`,
      ),
    );
  }
  return values;
}

function checkName(name: string): void {
  if (!isKafkaClusterName(name)) {
    throw AdminError.badRequest(
      `The request field 'cluster_name' is invalid. Reason: '${name}' ${KAFKA_CLUSTER_NAME_RULE}`,
    );
  }
}

function notFound(name: string): AdminError {
  return AdminError.notFound(`The requested Kafka cluster '${name}' does not exist`);
}

function storedView(cluster: KafkaClusterEntity): KafkaClusterView {
  return {
    name: cluster.name,
    properties: maskSecrets(cluster.properties),
    created_at: cluster.createdAt.toISOString(),
    source: 'api',
  };
}

function subscriptionView(sub: SubscriptionEntity): KafkaClusterSubscriptionView {
  return { id: sub.id, source: sub.source, sink: sub.sink, options: maskSecrets(sub.options) };
}
