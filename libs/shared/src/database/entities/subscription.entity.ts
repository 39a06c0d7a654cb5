import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type SubscriptionStatus = 'active' | 'paused';

@Entity({ name: 'subscriptions' })
@Index('IDX_subscriptions_source', ['source'])
@Index('IDX_subscriptions_sink', ['sink'])
@Index('IDX_subscriptions_cluster', ['cluster'])
export class SubscriptionEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_subscriptions' })
  id: string;

  /** `kafka://<cluster>/<topic>` as given. */
  @Column({ type: 'text' })
  source: string;

  /** `service://<service>/<handler>` as given. */
  @Column({ type: 'text' })
  sink: string;

  @Column({ type: 'text' })
  cluster: string;

  @Column({ type: 'text' })
  topic: string;

  @Column({ name: 'service_name', type: 'text' })
  serviceName: string;

  @Column({ name: 'handler_name', type: 'text' })
  handlerName: string;

  /** librdkafka options as given, plus the resolved group.id and client.id. */
  @Column({ type: 'jsonb' })
  options: Record<string, string>;

  @Column({ type: 'text', default: 'active' })
  status: SubscriptionStatus;

  @Column({ name: 'dead_letter_topic', type: 'text', nullable: true })
  deadLetterTopic: string | null;

  /** Bumped on every change so workers notice edits with one cheap poll. */
  @Column({ type: 'int', default: 1 })
  generation: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
