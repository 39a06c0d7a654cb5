import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import { AdminError } from '../common/admin-error';
import { CreateKafkaClusterDto } from './dto/create-kafka-cluster.dto';
import { UpdateKafkaClusterDto } from './dto/update-kafka-cluster.dto';
import {
  KafkaClusterDetailView,
  KafkaClusterService,
  KafkaClusterView,
  KafkaClusterWriteView,
} from './kafka-cluster.service';

/**
 * A `?force=true` flag. Typed as a string so the global ValidationPipe leaves it alone (it would
 * turn any text into `false`); anything but true/false is a 400 naming the parameter.
 */
function parseFlag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw AdminError.badRequest(
    `The query parameter '${name}' is invalid. Reason: expected 'true' or 'false', got '${value}'`,
  );
}

/** Restate's `/kafka-clusters` API (1.7). */
@Controller('kafka-clusters')
export class KafkaClusterController {
  constructor(private readonly clusters: KafkaClusterService) {}

  @Get()
  async list(): Promise<{ clusters: KafkaClusterView[] }> {
    return { clusters: await this.clusters.list() };
  }

  @Post()
  async create(
    @Body() body: CreateKafkaClusterDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<KafkaClusterWriteView> {
    const cluster = await this.clusters.create(body.name, body.properties);
    res.status(201).location(`kafka-clusters/${encodeURIComponent(cluster.name)}`);
    return cluster;
  }

  @Get(':name')
  get(
    @Param('name') name: string,
    @Query('include_subscriptions') include?: string,
  ): Promise<KafkaClusterDetailView> {
    return this.clusters.get(name, parseFlag('include_subscriptions', include));
  }

  @Patch(':name')
  update(
    @Param('name') name: string,
    @Body() body: UpdateKafkaClusterDto,
  ): Promise<KafkaClusterWriteView> {
    return this.clusters.update(name, body.properties);
  }

  @Delete(':name')
  @HttpCode(202)
  async remove(@Param('name') name: string, @Query('force') force?: string): Promise<void> {
    await this.clusters.remove(name, parseFlag('force', force));
  }
}
