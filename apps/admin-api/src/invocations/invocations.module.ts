import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  BusModule,
  InvocationAttemptEntity,
  InvocationEntity,
  InvocationJournalEntity,
  InvocationPayloadEntity,
} from '@tributary/shared';
import { AwakeableController } from './awakeable.controller';
import { InvocationControlSender } from './invocation-control.sender';
import { InvocationController } from './invocation.controller';
import { InvocationRepository } from './invocation.repository';
import { InvocationService } from './invocation.service';

/** Listing and managing invocations (docs/admin-api.md). */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      InvocationEntity,
      InvocationPayloadEntity,
      InvocationJournalEntity,
      InvocationAttemptEntity,
    ]),
    BusModule,
  ],
  controllers: [InvocationController, AwakeableController],
  providers: [InvocationRepository, InvocationService, InvocationControlSender],
})
export class InvocationsModule {}
