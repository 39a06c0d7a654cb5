import {
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { busTopics, BusTopics } from '../contracts/topics';
import type { TributaryConfig } from '../config';
import { createKafka, KafkajsAdmin } from '../kafka/kafkajs.client';
import { PROCESS_NAME, TRIBUTARY_CONFIG } from './config.module';
import type { Kafka } from 'kafkajs';

export const BUS_KAFKA = Symbol('BUS_KAFKA');

/** The internal bus: its Kafka connection, its admin client and its topics. */
@Injectable()
export class Bus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('bus');
  readonly topics: BusTopics;
  readonly admin: KafkajsAdmin;

  constructor(
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
    @Inject(BUS_KAFKA) readonly kafka: Kafka,
  ) {
    this.topics = busTopics(config.bus.topicPrefix);
    this.admin = KafkajsAdmin.create(kafka);
  }

  /**
   * Creates the bus topics when missing, with the configured partitions, replication factor and
   * `min.insync.replicas`. An existing topic is left as it is.
   */
  async onModuleInit(): Promise<void> {
    const { partitions, replicationFactor, minInsyncReplicas } = this.config.bus;
    await this.admin.ensureTopics(
      Object.values(this.topics).map((topic) => ({
        topic,
        partitions,
        replicationFactor,
        // A command carries its record's value as is, plus a header of well under a KiB.
        config: {
          'max.message.bytes': String(16 * 1024 * 1024),
          // With acks=all, a write is acknowledged once this many replicas have it.
          ...(minInsyncReplicas === undefined
            ? {}
            : { 'min.insync.replicas': String(minInsyncReplicas) }),
        },
      })),
    );
    this.logger.log(`bus topics ready: ${Object.values(this.topics).join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin.close();
  }
}

@Module({
  providers: [
    {
      provide: BUS_KAFKA,
      inject: [TRIBUTARY_CONFIG, PROCESS_NAME],
      useFactory: (config: TributaryConfig, processName: string) =>
        createKafka({ brokers: config.bus.brokers, clientId: `tributary-${processName}` }, 'bus'),
    },
    Bus,
  ],
  exports: [Bus, BUS_KAFKA],
})
export class BusModule {}
