import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InvocationEntity, InvocationPayloadEntity } from '@tributary/shared';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { DeadLetterController, DeadLetterService } from './dead-letters';
import { DeploymentHealthController, DeploymentHealthService } from './deployment-health';
import { InvocationCountsController, InvocationCountsService } from './invocation-counts';
import { InvocationInputController } from './invocation-input.controller';
import { LagHistoryController, LagHistoryService } from './lag-history';
import { ObjectStateController, ObjectStateService } from './object-state';
import { OffsetResetController, OffsetResetService } from './offset-reset';
import { RecordBrowserController, RecordBrowserService } from './record-browser';
import { SubscriptionKafka } from './subscription-kafka';

/**
 * The admin API endpoints the web console needs beyond Restate's (docs/console.md); the console's
 * files themselves are served by `serveConsole` (console-static.ts), ahead of Nest's routes.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([InvocationEntity, InvocationPayloadEntity]),
    SubscriptionsModule,
  ],
  controllers: [
    InvocationCountsController,
    InvocationInputController,
    LagHistoryController,
    OffsetResetController,
    RecordBrowserController,
    ObjectStateController,
    DeadLetterController,
    DeploymentHealthController,
  ],
  providers: [
    InvocationCountsService,
    LagHistoryService,
    OffsetResetService,
    RecordBrowserService,
    SubscriptionKafka,
    ObjectStateService,
    DeadLetterService,
    DeploymentHealthService,
  ],
})
export class ConsoleModule {}
