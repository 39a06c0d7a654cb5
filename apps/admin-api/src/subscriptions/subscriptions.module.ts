import { Module } from '@nestjs/common';
import { ConsumerGroupInspector, KafkajsConsumerGroupInspector } from './consumer-group.inspector';
import { SubscriptionController } from './subscription.controller';
import { SubscriptionRepository } from './subscription.repository';
import { SubscriptionService } from './subscription.service';

@Module({
  controllers: [SubscriptionController],
  providers: [
    SubscriptionService,
    SubscriptionRepository,
    { provide: ConsumerGroupInspector, useClass: KafkajsConsumerGroupInspector },
  ],
  // The console (apps/admin-api/src/console) samples lag through the service and reads the
  // subscription's cluster through the repository.
  exports: [SubscriptionService, SubscriptionRepository],
})
export class SubscriptionsModule {}
