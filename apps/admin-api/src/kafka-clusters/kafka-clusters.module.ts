import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { KafkaClusterEntity, SubscriptionEntity } from '@tributary/shared';
import { KafkaClusterController } from './kafka-cluster.controller';
import { KafkaClusterRepository } from './kafka-cluster.repository';
import { KafkaClusterService } from './kafka-cluster.service';

/** Kafka clusters of the config file (read-only) and of the admin API (docs/admin-api.md). */
@Module({
  imports: [TypeOrmModule.forFeature([KafkaClusterEntity, SubscriptionEntity])],
  controllers: [KafkaClusterController],
  providers: [KafkaClusterRepository, KafkaClusterService],
  exports: [KafkaClusterService],
})
export class KafkaClustersModule {}
