import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Clusters created through the admin API. Clusters from the config file are not stored here. */
@Entity({ name: 'kafka_clusters' })
export class KafkaClusterEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_kafka_clusters' })
  name: string;

  /** librdkafka properties; must hold bootstrap.servers or metadata.broker.list. */
  @Column({ type: 'jsonb' })
  properties: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
