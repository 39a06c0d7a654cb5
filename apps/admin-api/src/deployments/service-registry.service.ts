import { Inject, Injectable } from '@nestjs/common';
import { TRIBUTARY_CONFIG, TributaryConfig } from '@tributary/shared';
import { AdminError } from '../common/admin-error';
import { DeploymentRepository } from './deployment.repository';
import {
  HandlerMetadata,
  ServiceDefaults,
  ServiceMetadata,
  ServiceRecord,
  toHandlerMetadata,
  toServiceMetadata,
} from './service-metadata.presenter';

/** The registered services and their handlers, as Restate's `/services` API shows them. */
@Injectable()
export class ServiceRegistryService {
  private readonly defaults: ServiceDefaults;

  constructor(
    private readonly repository: DeploymentRepository,
    @Inject(TRIBUTARY_CONFIG) config: TributaryConfig,
  ) {
    this.defaults = {
      retentionMs: config.invocation.retentionMs,
      retryPolicy: config.invocation.defaultRetryPolicy,
    };
  }

  async list(): Promise<ServiceMetadata[]> {
    const services = await this.repository.listServices();
    return services.map((s) => toServiceMetadata(s, this.defaults));
  }

  async get(name: string): Promise<ServiceMetadata> {
    return toServiceMetadata(await this.findOrFail(name), this.defaults);
  }

  async handlers(service: string): Promise<HandlerMetadata[]> {
    return (await this.findOrFail(service)).handlers.map(toHandlerMetadata);
  }

  async handler(service: string, handler: string): Promise<HandlerMetadata> {
    const found = (await this.findOrFail(service)).handlers.find((h) => h.name === handler);
    if (!found) {
      throw AdminError.notFound(
        `The requested handler '${handler}' on service '${service}' does not exist`,
      );
    }
    return toHandlerMetadata(found);
  }

  private async findOrFail(name: string): Promise<ServiceRecord> {
    const service = await this.repository.findService(name);
    if (!service) throw AdminError.notFound(`The requested service '${name}' does not exist`);
    return service;
  }
}
