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
  // The console's lag history samples through the service (apps/admin-api/src/console).
  exports: [SubscriptionService],
})
export class SubscriptionsModule {}
