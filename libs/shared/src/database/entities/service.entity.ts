import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  UpdateDateColumn,
  Relation,
} from 'typeorm';
import { DeploymentEntity } from './deployment.entity';
import { HandlerEntity } from './handler.entity';

import type { ServiceType } from '../../protocol/protocol.types';

export type { ServiceType };

/** The latest revision of a service; registering it again from another deployment moves it. */
@Entity({ name: 'services' })
@Index('IDX_services_deployment', ['deploymentId'])
export class ServiceEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_services' })
  name: string;

  @Column({ type: 'text' })
  ty: ServiceType;

  @Column({ name: 'deployment_id', type: 'text' })
  deploymentId: string;

  @ManyToOne(() => DeploymentEntity, (deployment) => deployment.services, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'deployment_id',
    foreignKeyConstraintName: 'FK_services_deployment',
  })
  deployment?: Relation<DeploymentEntity>;

  @Column({ type: 'int', default: 1 })
  revision: number;

  @Column({ type: 'boolean', default: true })
  public: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @OneToMany(() => HandlerEntity, (handler) => handler.service)
  handlers?: Relation<HandlerEntity>[];
}
