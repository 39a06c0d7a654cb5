import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Key-value state of a virtual object or workflow key, changed only with a completion. */
@Entity({ name: 'object_state' })
export class ObjectStateEntity {
  @PrimaryColumn({
    name: 'service_name',
    type: 'text',
    primaryKeyConstraintName: 'PK_object_state',
  })
  serviceName: string;

  @PrimaryColumn({ name: 'object_key', type: 'text', primaryKeyConstraintName: 'PK_object_state' })
  objectKey: string;

  @PrimaryColumn({ name: 'state_key', type: 'text', primaryKeyConstraintName: 'PK_object_state' })
  stateKey: string;

  @Column({ type: 'bytea' })
  value: Buffer;
}
