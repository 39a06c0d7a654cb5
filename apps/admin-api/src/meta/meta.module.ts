import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JsonBodyGuard } from './json-body.guard';
import { MetaController } from './meta.controller';

/** `GET /version` and `GET /openapi.json`, and the request checks every route shares. */
@Module({
  controllers: [MetaController],
  providers: [{ provide: APP_GUARD, useClass: JsonBodyGuard }],
})
export class MetaModule {}
