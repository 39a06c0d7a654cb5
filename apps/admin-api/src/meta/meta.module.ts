import { Module } from '@nestjs/common';
import { MetaController } from './meta.controller';

/** `GET /version` and `GET /openapi.json`. */
@Module({ controllers: [MetaController] })
export class MetaModule {}
