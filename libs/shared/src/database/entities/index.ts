import { DeploymentEntity } from './deployment.entity';
import {
  InvocationInboxEntity,
  WorkflowPromiseEntity,
  WorkflowPromiseWaiterEntity,
} from './durable-execution.entity';
import { HandlerEntity } from './handler.entity';
import { InvocationAttemptEntity } from './invocation-attempt.entity';
import { InvocationJournalEntity } from './invocation-journal.entity';
import { InvocationListingEntity } from './invocation-listing.entity';
import { InvocationEntity, InvocationPayloadEntity } from './invocation.entity';
import { KafkaClusterEntity } from './kafka-cluster.entity';
import { ObjectStateEntity } from './object-state.entity';
import { ServiceEntity } from './service.entity';
import { InvocationDeliveryEntity, ShardOutboxEntity } from './shard-outbox.entity';
import { SubscriptionEntity } from './subscription.entity';

export * from './deployment.entity';
export * from './durable-execution.entity';
export * from './handler.entity';
export * from './invocation-attempt.entity';
export * from './invocation-journal.entity';
export * from './invocation-listing.entity';
export * from './invocation.entity';
export * from './kafka-cluster.entity';
export * from './object-state.entity';
export * from './service.entity';
export * from './shard-outbox.entity';
export * from './subscription.entity';

export const ENTITIES = [
  DeploymentEntity,
  ServiceEntity,
  HandlerEntity,
  KafkaClusterEntity,
  SubscriptionEntity,
  InvocationEntity,
  InvocationPayloadEntity,
  InvocationJournalEntity,
  InvocationAttemptEntity,
  InvocationListingEntity,
  ObjectStateEntity,
  InvocationInboxEntity,
  WorkflowPromiseEntity,
  WorkflowPromiseWaiterEntity,
  ShardOutboxEntity,
  InvocationDeliveryEntity,
];
