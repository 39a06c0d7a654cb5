import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Relation } from 'typeorm';
import { ServiceEntity } from './service.entity';

import type { HandlerType } from '../../protocol/protocol.types';

/** EXCLUSIVE and WORKFLOW handlers run one at a time per key; SHARED and service handlers do not. */
export type { HandlerType };

@Entity({ name: 'handlers' })
export class HandlerEntity {
  @PrimaryColumn({ name: 'service_name', type: 'text', primaryKeyConstraintName: 'PK_handlers' })
  serviceName: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_handlers' })
  name: string;

  @ManyToOne(() => ServiceEntity, (service) => service.handlers, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'service_name', foreignKeyConstraintName: 'FK_handlers_service' })
  service?: Relation<ServiceEntity>;

  /** Null for service handlers, which have no kind. */
  @Column({ type: 'text', nullable: true })
  ty: HandlerType | null;

  @Column({ name: 'input_content_type', type: 'text', nullable: true })
  inputContentType: string | null;

  @Column({ name: 'output_content_type', type: 'text', nullable: true })
  outputContentType: string | null;
}
