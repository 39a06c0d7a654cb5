import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import { CreateSubscriptionDto } from './create-subscription.dto';
import { ListSubscriptionsQuery } from './list-subscriptions.query';
import { SubscriptionIdPipe } from './subscription-id.pipe';
import { SubscriptionService } from './subscription.service';
import type { SubscriptionDetailView, SubscriptionView } from './subscription.view';
import { UpdateSubscriptionDto } from './update-subscription.dto';

@Controller('subscriptions')
export class SubscriptionController {
  constructor(@Inject(SubscriptionService) private readonly subscriptions: SubscriptionService) {}

  /** 201 with a new subscription, 200 with the existing one when the same was created before. */
  @Post()
  async create(
    @Body() dto: CreateSubscriptionDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubscriptionView> {
    const { view, created } = await this.subscriptions.create(dto);
    res.status(created ? 201 : 200).location(`subscriptions/${view.id}`);
    return view;
  }

  @Get()
  async list(
    @Query() query: ListSubscriptionsQuery,
  ): Promise<{ subscriptions: SubscriptionView[] }> {
    return { subscriptions: await this.subscriptions.list(query) };
  }

  @Get(':id')
  get(@Param('id', SubscriptionIdPipe) id: string): Promise<SubscriptionDetailView> {
    return this.subscriptions.get(id);
  }

  @Patch(':id')
  update(
    @Param('id', SubscriptionIdPipe) id: string,
    @Body() dto: UpdateSubscriptionDto,
  ): Promise<SubscriptionView> {
    return this.subscriptions.updateOptions(id, dto);
  }

  @Patch(':id/pause')
  pause(@Param('id', SubscriptionIdPipe) id: string): Promise<SubscriptionView> {
    return this.subscriptions.setStatus(id, 'paused');
  }

  @Patch(':id/resume')
  resume(@Param('id', SubscriptionIdPipe) id: string): Promise<SubscriptionView> {
    return this.subscriptions.setStatus(id, 'active');
  }

  @Delete(':id')
  @HttpCode(202)
  async delete(@Param('id', SubscriptionIdPipe) id: string): Promise<void> {
    await this.subscriptions.delete(id);
  }
}
