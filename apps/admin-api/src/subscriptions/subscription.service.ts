import { Inject, Injectable } from '@nestjs/common';
import {
  buildKafkaConfig,
  mergeKafkaOptions,
  newId,
  SubscriptionEntity,
  SubscriptionStatus,
  translateKafkaOptions,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { AdminError } from '../common/admin-error';
import { ConsumerGroupInspector, PartitionStatus } from './consumer-group.inspector';
import type { CreateSubscriptionDto } from './create-subscription.dto';
import type { ListSubscriptionsQuery } from './list-subscriptions.query';
import { ReservedNames } from '../common/reserved-names';
import {
  acceptGivenOptions,
  DEAD_LETTER_TOPIC_OPTION,
  defaultsForNew,
  invalidOptions,
  optionWarnings,
  OptionDefaults,
  ResolvedOptions,
  resolveSubscriptionOptions,
  sameOptions,
} from './subscription-options.resolver';
import { parseSinkUri, parseSourceUri, sinkNotFound } from './subscription-uri.parser';
import { SubscriptionRepository } from './subscription.repository';
import {
  SubscriptionDetailView,
  SubscriptionView,
  toPartitionView,
  toSubscriptionView,
} from './subscription.view';
import type { UpdateSubscriptionDto } from './update-subscription.dto';

type Clusters = Map<string, Record<string, string>>;

function clusterNotFound(name: string, clusters: Clusters): AdminError {
  // Rust's Debug rendering of a list of names, as in Restate's message.
  const available = [...clusters.keys()]
    .sort()
    .map((n) => JSON.stringify(n))
    .join(', ');
  return AdminError.badRequest(
    `Kafka cluster '${name}' not found. Available clusters: [${available}]`,
  );
}

function subscriptionNotFound(id: string): AdminError {
  return AdminError.notFound(`The requested subscription '${id}' does not exist`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Subscriptions as Restate has them (create, list, get, delete), plus what its users ask for:
 * idempotent create, option changes, pause/resume and where consumption stands. Every change
 * bumps the row's generation; workers poll for that and apply it within seconds.
 */
@Injectable()
export class SubscriptionService {
  private readonly reserved: ReservedNames;

  constructor(
    @Inject(SubscriptionRepository) private readonly repo: SubscriptionRepository,
    @Inject(ConsumerGroupInspector) private readonly inspector: ConsumerGroupInspector,
    @Inject(TRIBUTARY_CONFIG) config: TributaryConfig,
  ) {
    this.reserved = new ReservedNames(config.bus.topicPrefix);
  }

  async create(dto: CreateSubscriptionDto): Promise<{ view: SubscriptionView; created: boolean }> {
    // Nothing was stored yet, so a masked secret has no value to stand for.
    const given = acceptGivenOptions(dto.options ?? {}, {});
    const source = parseSourceUri(dto.source);
    const reservedTopic = this.reserved.topicProblem(source.topic, 'source');
    if (reservedTopic !== undefined) {
      throw AdminError.badRequest(`Invalid subscription source '${dto.source}': ${reservedTopic}`);
    }
    const clusters = await this.repo.clusters();
    const clusterProps = clusters.get(source.cluster);
    if (clusterProps === undefined) throw clusterNotFound(source.cluster, clusters);
    const sink = parseSinkUri(dto.sink);
    if (!(await this.repo.handlerExists(sink.service, sink.handler))) throw sinkNotFound(dto.sink);

    const resolve = (id: string) =>
      resolveSubscriptionOptions(
        given,
        clusterProps,
        defaultsForNew(clusterProps, id),
        source.topic,
      );
    const id = newId('sub');
    const resolved = this.refuseReserved(resolve(id));
    const { subscription, created } = await this.repo.insertUnlessExists(
      {
        id,
        source: dto.source,
        sink: dto.sink,
        cluster: source.cluster,
        topic: source.topic,
        serviceName: sink.service,
        handlerName: sink.handler,
        options: resolved.options,
        deadLetterTopic: resolved.deadLetterTopic,
      },
      // The same request again resolves to the same options, given the existing row's id.
      (sameEnds) => sameEnds.find((e) => sameOptions(e.options, resolve(e.id).options)),
    );
    return { view: toSubscriptionView(subscription, resolved.warnings), created };
  }

  async list(query: ListSubscriptionsQuery): Promise<SubscriptionView[]> {
    const [rows, clusters] = await Promise.all([this.repo.list(query), this.repo.clusters()]);
    return rows.map((row) => this.view(row, clusters));
  }

  async get(id: string): Promise<SubscriptionDetailView> {
    const row = await this.repo.findById(id);
    if (row === null) throw subscriptionNotFound(id);
    const clusters = await this.repo.clusters();
    let partitions: PartitionStatus[] = [];
    let partitionsError: string | null = null;
    try {
      partitions = await this.partitionStatus(row, clusters);
    } catch (err) {
      partitionsError = errorText(err);
    }
    return {
      ...this.view(row, clusters),
      partitions: partitions.map(toPartitionView),
      partitions_error: partitionsError,
    };
  }

  /** Replaces the options; `group.id` and `client.id` keep their values unless given. */
  async updateOptions(id: string, dto: UpdateSubscriptionDto): Promise<SubscriptionView> {
    const current = await this.repo.findById(id);
    if (current === null) throw subscriptionNotFound(id);
    const given = acceptGivenOptions(dto.options, current.options);
    const clusters = await this.repo.clusters();
    const clusterProps = clusters.get(current.cluster);
    if (clusterProps === undefined) throw clusterNotFound(current.cluster, clusters);
    const defaults: OptionDefaults = {
      ...defaultsForNew(clusterProps, current.id),
      ...(current.options['group.id'] === undefined
        ? {}
        : { groupId: current.options['group.id'] }),
      ...(current.options['client.id'] === undefined
        ? {}
        : { clientId: current.options['client.id'] }),
    };
    const resolved = this.refuseReserved(
      resolveSubscriptionOptions(given, clusterProps, defaults, current.topic),
    );
    const row = await this.repo.modify(id, (r) => {
      if (sameOptions(r.options, resolved.options)) return false;
      r.options = resolved.options;
      r.deadLetterTopic = resolved.deadLetterTopic;
      return true;
    });
    if (row === null) throw subscriptionNotFound(id);
    return toSubscriptionView(row, resolved.warnings);
  }

  async setStatus(id: string, status: SubscriptionStatus): Promise<SubscriptionView> {
    const row = await this.repo.modify(id, (r) => {
      if (r.status === status) return false;
      r.status = status;
      return true;
    });
    if (row === null) throw subscriptionNotFound(id);
    return this.view(row, await this.repo.clusters());
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id))) throw subscriptionNotFound(id);
  }

  /** Resolved options that would join an internal group or dead-letter into an internal topic. */
  private refuseReserved(resolved: ResolvedOptions): ResolvedOptions {
    const problems: string[] = [];
    const group = this.reserved.groupProblem(resolved.options['group.id']);
    if (group !== undefined) problems.push(group);
    if (resolved.deadLetterTopic !== null) {
      const topic = this.reserved.topicProblem(resolved.deadLetterTopic, 'dead-letter');
      if (topic !== undefined) problems.push(`option '${DEAD_LETTER_TOPIC_OPTION}': ${topic}`);
    }
    if (problems.length > 0) throw invalidOptions(problems);
    return resolved;
  }

  private view(row: SubscriptionEntity, clusters: Clusters): SubscriptionView {
    const clusterProps = clusters.get(row.cluster);
    const warnings = clusterProps === undefined ? [] : optionWarnings(row.options, clusterProps);
    return toSubscriptionView(row, warnings);
  }

  private async partitionStatus(
    row: SubscriptionEntity,
    clusters: Clusters,
  ): Promise<PartitionStatus[]> {
    const clusterProps = clusters.get(row.cluster);
    if (clusterProps === undefined) {
      throw new Error(`Kafka cluster '${row.cluster}' not found; the subscription cannot consume`);
    }
    const t = translateKafkaOptions(mergeKafkaOptions(clusterProps, row.options), {
      scope: 'merged',
    });
    if (t.errors.length > 0) throw new Error(`invalid options: ${t.errors.join('; ')}`);
    const groupId = row.options['group.id'] ?? row.id;
    try {
      return await this.inspector.partitions(buildKafkaConfig(t.client), groupId, row.topic);
    } catch (err) {
      throw new Error(
        `could not read group '${groupId}' on topic '${row.topic}' from Kafka: ${errorText(err)}`,
      );
    }
  }
}
