import { Controller, Get, Param } from '@nestjs/common';
import type { HandlerMetadata, ServiceMetadata } from './service-metadata.presenter';
import { ServiceRegistryService } from './service-registry.service';

/** Restate's `/services` API (read side). */
@Controller('services')
export class ServiceRegistryController {
  constructor(private readonly services: ServiceRegistryService) {}

  @Get()
  async list(): Promise<{ services: ServiceMetadata[] }> {
    return { services: await this.services.list() };
  }

  @Get(':service')
  get(@Param('service') service: string): Promise<ServiceMetadata> {
    return this.services.get(service);
  }

  @Get(':service/handlers')
  async handlers(@Param('service') service: string): Promise<{ handlers: HandlerMetadata[] }> {
    return { handlers: await this.services.handlers(service) };
  }

  @Get(':service/handlers/:handler')
  handler(
    @Param('service') service: string,
    @Param('handler') handler: string,
  ): Promise<HandlerMetadata> {
    return this.services.handler(service, handler);
  }
}
