import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  DeploymentEntity,
  HandlerEntity,
  ServiceEntity,
  SubscriptionEntity,
} from '@tributary/shared';
import { DeploymentController } from './deployment.controller';
import { DeploymentDiscovery } from './deployment.discovery';
import { DeploymentRepository } from './deployment.repository';
import { DeploymentService } from './deployment.service';
import { ServiceRegistryController } from './service-registry.controller';
import { ServiceRegistryService } from './service-registry.service';

/** The registry of deployments, services and handlers. */
@Module({
  imports: [
    TypeOrmModule.forFeature([DeploymentEntity, ServiceEntity, HandlerEntity, SubscriptionEntity]),
  ],
  controllers: [DeploymentController, ServiceRegistryController],
  providers: [DeploymentRepository, DeploymentDiscovery, DeploymentService, ServiceRegistryService],
  exports: [ServiceRegistryService],
})
export class DeploymentsModule {}
