import { DataSource } from 'typeorm';
import {
  DeploymentEntity,
  HandlerEntity,
  ServiceEntity,
  SubscriptionEntity,
} from '../../libs/shared/src/database/entities';
import { newId } from '../../libs/shared/src/ids/ids';
import type { HandlerType, ServiceType } from '../../libs/shared/src/protocol/protocol.types';

/** Registers a service directly in Postgres, as POST /deployments would. */
export async function registerService(
  ds: DataSource,
  service: string,
  ty: ServiceType,
  handlers: Record<string, HandlerType | null>,
  uri = `http://127.0.0.1:1/${service}`,
  inputContentType: string | null = 'application/json',
): Promise<void> {
  const deploymentId = newId('dp');
  await ds.getRepository(DeploymentEntity).insert({
    id: deploymentId,
    uri,
    additionalHeaders: {},
    minProtocolVersion: 1,
    maxProtocolVersion: 1,
    manifest: {},
  });
  await ds.getRepository(ServiceEntity).insert({ name: service, ty, deploymentId });
  await ds.getRepository(HandlerEntity).insert(
    Object.entries(handlers).map(([name, hty]) => ({
      serviceName: service,
      name,
      ty: hty,
      inputContentType,
      outputContentType: 'application/json',
    })),
  );
}

/** Creates a subscription row directly, as POST /subscriptions would. */
export async function insertSubscription(
  ds: DataSource,
  topic: string,
  service: string,
  handler: string,
  options: Record<string, string> = {},
  cluster = 'local',
): Promise<string> {
  const id = newId('sub');
  await ds.getRepository(SubscriptionEntity).insert({
    id,
    source: `kafka://${cluster}/${topic}`,
    sink: `service://${service}/${handler}`,
    cluster,
    topic,
    serviceName: service,
    handlerName: handler,
    options: { 'group.id': id, 'client.id': 'restate', ...options },
    status: 'active',
    deadLetterTopic: null,
  });
  return id;
}
