import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  DeploymentEntity,
  EndpointManifest,
  HandlerEntity,
  ManifestHandler,
  ServiceEntity,
  SubscriptionEntity,
} from '@tributary/shared';
import { DataSource, EntityManager, In, QueryFailedError } from 'typeorm';
import { HandlerRecord, ServiceRecord } from './service-metadata.presenter';

export interface DeploymentRecord {
  id: string;
  uri: string;
  additionalHeaders: Record<string, string>;
  minProtocolVersion: number;
  maxProtocolVersion: number;
  /** The manifest as discovered (parsed and normalized by the protocol client). */
  manifest: EndpointManifest;
  createdAt: Date;
  /** The services this deployment currently serves, by name. */
  services: ServiceRecord[];
}

/** What a registration writes for the deployment itself. */
export interface DeploymentWrite {
  id: string;
  uri: string;
  additionalHeaders: Record<string, string>;
  manifest: EndpointManifest;
}

export interface SubscriptionRef {
  id: string;
  sink: string;
}

const UNIQUE_VIOLATION = '23505';

/** True for the error Postgres raises when a concurrent writer inserted the same key first. */
export function isUniqueViolation(err: unknown): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driverError: unknown = err.driverError;
  return (
    typeof driverError === 'object' &&
    driverError !== null &&
    (driverError as { code?: unknown }).code === UNIQUE_VIOLATION
  );
}

/**
 * Deployments, services and handlers in Postgres. Reads return records shaped for the admin API;
 * registrations run through `transaction`, whose `RegistryStore` locks what it reads.
 */
@Injectable()
export class DeploymentRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  listDeployments(): Promise<DeploymentRecord[]> {
    return loadDeployments(this.dataSource.manager);
  }

  async findDeployment(id: string): Promise<DeploymentRecord | undefined> {
    const [found] = await loadDeployments(this.dataSource.manager, id);
    return found;
  }

  async listServices(): Promise<ServiceRecord[]> {
    const services = await this.dataSource.manager.find(ServiceEntity, {
      relations: { handlers: true, deployment: true },
      order: { name: 'ASC', handlers: { name: 'ASC' } },
    });
    return services.map((s) => toServiceRecord(s, s.deployment?.manifest as EndpointManifest));
  }

  async findService(name: string): Promise<ServiceRecord | undefined> {
    // Postgres refuses a NUL in text, so no registered service has one.
    if (name.includes('\0')) return undefined;
    const service = await this.dataSource.manager.findOne(ServiceEntity, {
      where: { name },
      relations: { handlers: true, deployment: true },
      order: { handlers: { name: 'ASC' } },
    });
    if (!service) return undefined;
    return toServiceRecord(service, service.deployment?.manifest as EndpointManifest);
  }

  /** Subscriptions whose sink is a service of this deployment. */
  async subscriptionsOnDeployment(id: string): Promise<SubscriptionRef[]> {
    const rows = await this.dataSource.manager
      .createQueryBuilder(SubscriptionEntity, 'sub')
      .select(['sub.id', 'sub.sink'])
      .where((qb) => {
        const served = qb
          .subQuery()
          .select('s.name')
          .from(ServiceEntity, 's')
          .where('s.deploymentId = :id')
          .getQuery();
        return `sub.serviceName IN ${served}`;
      })
      .setParameter('id', id)
      .orderBy('sub.id', 'ASC')
      .getMany();
    return rows.map((r) => ({ id: r.id, sink: r.sink }));
  }

  /** Its services and their handlers go with it (foreign keys cascade). */
  async deleteDeployment(id: string): Promise<boolean> {
    const result = await this.dataSource.manager.delete(DeploymentEntity, { id });
    return (result.affected ?? 0) > 0;
  }

  /** Runs `work` in one transaction; commits only when `commit` (a dry run rolls back). */
  async transaction<T>(
    work: (store: RegistryStore) => Promise<T>,
    { commit }: { commit: boolean },
  ): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const result = await work(new RegistryStore(runner.manager));
      if (commit) await runner.commitTransaction();
      else await runner.rollbackTransaction();
      return result;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw err;
    } finally {
      await runner.release();
    }
  }
}

/** The registry inside one transaction. Rows read here stay locked until it ends. */
export class RegistryStore {
  constructor(private readonly manager: EntityManager) {}

  async deploymentByUri(uri: string): Promise<DeploymentRecord | undefined> {
    const row = await this.manager.findOne(DeploymentEntity, {
      where: { uri },
      lock: { mode: 'pessimistic_write' },
    });
    if (!row) return undefined;
    const [record] = await loadDeployments(this.manager, row.id);
    return record;
  }

  /** The current revision of each named service that exists, wherever it is deployed. */
  async currentServices(names: string[]): Promise<Map<string, ServiceEntity>> {
    if (names.length === 0) return new Map();
    const rows = await this.manager.find(ServiceEntity, {
      where: { name: In(names) },
      lock: { mode: 'pessimistic_write' },
    });
    return new Map(rows.map((r) => [r.name, r]));
  }

  async saveDeployment(deployment: DeploymentWrite, isNew: boolean): Promise<void> {
    const values = {
      uri: deployment.uri,
      additionalHeaders: deployment.additionalHeaders,
      minProtocolVersion: deployment.manifest.minProtocolVersion,
      maxProtocolVersion: deployment.manifest.maxProtocolVersion,
      manifest: deployment.manifest,
    };
    if (isNew) await this.manager.insert(DeploymentEntity, { id: deployment.id, ...values });
    else await this.manager.update(DeploymentEntity, { id: deployment.id }, values);
  }

  async deleteServices(names: string[]): Promise<void> {
    if (names.length > 0) await this.manager.delete(ServiceEntity, { name: In(names) });
  }

  /** Inserts the service or moves it here with a new revision; its handlers are replaced. */
  async saveService(service: ServiceRecord): Promise<void> {
    await this.manager.upsert(
      ServiceEntity,
      {
        name: service.name,
        ty: service.ty,
        deploymentId: service.deploymentId,
        revision: service.revision,
        public: service.public,
      },
      ['name'],
    );
    await this.manager.delete(HandlerEntity, { serviceName: service.name });
    if (service.handlers.length === 0) return;
    await this.manager.insert(
      HandlerEntity,
      service.handlers.map((h) => ({
        serviceName: service.name,
        name: h.name,
        ty: h.ty,
        inputContentType: h.inputContentType,
        outputContentType: h.outputContentType,
      })),
    );
  }

  async loadDeployment(id: string): Promise<DeploymentRecord | undefined> {
    const [record] = await loadDeployments(this.manager, id);
    return record;
  }
}

async function loadDeployments(manager: EntityManager, id?: string): Promise<DeploymentRecord[]> {
  const rows = await manager.find(DeploymentEntity, {
    where: id === undefined ? {} : { id },
    relations: { services: { handlers: true } },
    order: { createdAt: 'ASC', id: 'ASC', services: { name: 'ASC', handlers: { name: 'ASC' } } },
  });
  return rows.map((row) => {
    const manifest = row.manifest as EndpointManifest;
    return {
      id: row.id,
      uri: row.uri,
      additionalHeaders: row.additionalHeaders,
      minProtocolVersion: row.minProtocolVersion,
      maxProtocolVersion: row.maxProtocolVersion,
      manifest,
      createdAt: row.createdAt,
      services: (row.services ?? []).map((s) => toServiceRecord(s, manifest)),
    };
  });
}

/**
 * The handlers table holds what the invoker needs; the stored manifest adds what only the admin
 * API shows (whether input is required, JSON schemas).
 */
function toServiceRecord(
  service: ServiceEntity,
  manifest: EndpointManifest | undefined,
): ServiceRecord {
  // A manifest stored without services (written by hand, or by an older version) adds nothing.
  const declared = manifest?.services?.find((s) => s.name === service.name);
  const details = new Map(declared?.handlers?.map((h) => [h.name, h]));
  return {
    name: service.name,
    ty: service.ty,
    deploymentId: service.deploymentId,
    revision: service.revision,
    public: service.public,
    handlers: (service.handlers ?? []).map((h) => toHandlerRecord(h, details.get(h.name))),
  };
}

function toHandlerRecord(
  handler: HandlerEntity,
  declared: ManifestHandler | undefined,
): HandlerRecord {
  return {
    name: handler.name,
    ty: handler.ty,
    inputContentType: handler.inputContentType,
    inputRequired: declared?.input?.required ?? false,
    outputContentType: handler.outputContentType,
    ...(declared?.input?.jsonSchema !== undefined
      ? { inputJsonSchema: declared.input.jsonSchema }
      : {}),
    ...(declared?.output?.jsonSchema !== undefined
      ? { outputJsonSchema: declared.output.jsonSchema }
      : {}),
  };
}
