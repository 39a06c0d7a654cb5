import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  OneToMany,
  PrimaryColumn,
  Relation,
} from 'typeorm';
import { ServiceEntity } from './service.entity';

/** A handler endpoint registered through `POST /deployments`. */
@Entity({ name: 'deployments' })
@Index('UQ_deployments_uri', ['uri'], { unique: true })
export class DeploymentEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_deployments' })
  id: string;

  @Column({ type: 'text' })
  uri: string;

  @Column({ name: 'additional_headers', type: 'jsonb', default: () => "'{}'" })
  additionalHeaders: Record<string, string>;

  @Column({ name: 'min_protocol_version', type: 'int' })
  minProtocolVersion: number;

  @Column({ name: 'max_protocol_version', type: 'int' })
  maxProtocolVersion: number;

  /** The manifest as discovered, kept for `GET /deployments/{id}` and for re-discovery diffs. */
  @Column({ type: 'jsonb' })
  manifest: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @OneToMany(() => ServiceEntity, (service) => service.deployment)
  services?: Relation<ServiceEntity>[];
}
