import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { KafkaClusterEntity, SubscriptionEntity } from '@tributary/shared';
import { Repository } from 'typeorm';

/** Clusters created through the admin API, and the subscriptions that read from them. */
@Injectable()
export class KafkaClusterRepository {
  constructor(
    @InjectRepository(KafkaClusterEntity)
    private readonly clusters: Repository<KafkaClusterEntity>,
    @InjectRepository(SubscriptionEntity)
    private readonly subscriptions: Repository<SubscriptionEntity>,
  ) {}

  list(): Promise<KafkaClusterEntity[]> {
    return this.clusters.find({ order: { name: 'ASC' } });
  }

  async find(name: string): Promise<KafkaClusterEntity | undefined> {
    return (await this.clusters.findOneBy({ name })) ?? undefined;
  }

  /** Undefined when a cluster of that name already exists. */
  async insert(
    name: string,
    properties: Record<string, string>,
  ): Promise<KafkaClusterEntity | undefined> {
    // ON CONFLICT DO NOTHING: a duplicate name is an answer (409), not a failed query to log.
    const result = await this.clusters
      .createQueryBuilder()
      .insert()
      .values({ name, properties })
      .orIgnore()
      .execute();
    if ((result.raw as unknown[]).length === 0) return undefined;
    return this.find(name);
  }

  /** Undefined when there is no such cluster. */
  async replaceProperties(
    name: string,
    properties: Record<string, string>,
  ): Promise<KafkaClusterEntity | undefined> {
    const result = await this.clusters.update({ name }, { properties });
    return result.affected ? this.find(name) : undefined;
  }

  /** False when there was no such cluster. */
  async delete(name: string): Promise<boolean> {
    const result = await this.clusters.delete({ name });
    return (result.affected ?? 0) > 0;
  }

  subscriptionsOn(cluster: string): Promise<SubscriptionEntity[]> {
    return this.subscriptions.find({ where: { cluster }, order: { createdAt: 'ASC', id: 'ASC' } });
  }
}
