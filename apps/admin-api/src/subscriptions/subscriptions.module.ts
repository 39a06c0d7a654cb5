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
})
export class SubscriptionsModule {}
