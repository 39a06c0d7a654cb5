import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AdminError } from '../common/admin-error';
import { DeploymentService } from './deployment.service';
import type {
  DeploymentDetail,
  DeploymentSummary,
  RegisterDeploymentResponse,
} from './deployment.views';
import { RegisterDeploymentDto } from './dto/register-deployment.dto';

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

/** Restate's `/deployments` API. */
@Controller('deployments')
export class DeploymentController {
  constructor(private readonly deployments: DeploymentService) {}

  /** 201 for a new deployment, 200 when it exists (unchanged, or overwritten with `force`). */
  @Post()
  async register(
    @Body() body: RegisterDeploymentDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RegisterDeploymentResponse> {
    const { created, body: registered } = await this.deployments.register(body);
    res.status(created ? 201 : 200).location(`deployments/${registered.id}`);
    return registered;
  }

  @Get()
  list(): Promise<{ deployments: DeploymentSummary[] }> {
    return this.deployments.list();
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<DeploymentDetail> {
    return this.deployments.get(id);
  }

  @Delete(':id')
  @HttpCode(202)
  async remove(@Param('id') id: string, @Query('force') force?: string): Promise<void> {
    await this.deployments.remove(id, parseFlag('force', force));
  }
}
