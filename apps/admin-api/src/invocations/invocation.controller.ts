import { Controller, Delete, Get, HttpCode, Param, Patch, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AdminError } from '../common/admin-error';
import { InvocationIdPipe } from './invocation-id.pipe';
import { ControlOutcome, DeleteMode, InvocationService } from './invocation.service';
import type { InvocationDetailView, InvocationPage } from './invocation.view';
import { parseListInvocationsQuery } from './list-invocations.query';

const STATUS: Record<ControlOutcome, number> = { done: 200, accepted: 202 };

/** Restate accepts the mode in either case of its first letter (`kill`, `Kill`). */
function parseDeleteMode(mode: unknown): DeleteMode {
  if (mode === undefined) return 'cancel';
  const lower = typeof mode === 'string' ? mode.charAt(0).toLowerCase() + mode.slice(1) : '';
  if (lower === 'cancel' || lower === 'kill' || lower === 'purge') return lower;
  throw AdminError.badRequest(
    `The query parameter 'mode' is invalid. Reason: expected one of cancel, kill, purge, got ${JSON.stringify(mode)}`,
  );
}

/**
 * Restate's invocation management API (docs/admin-api.md), plus `GET /invocations` to list.
 * Management calls answer with an empty body: 200 when done, 202 when the invoker was asked.
 */
@Controller('invocations')
export class InvocationController {
  constructor(private readonly invocations: InvocationService) {}

  /** Typed loosely so the global ValidationPipe leaves it be: the parser names each bad value. */
  @Get()
  list(@Query() query: Record<string, unknown>): Promise<InvocationPage> {
    return this.invocations.list(parseListInvocationsQuery(query));
  }

  @Get(':id')
  get(@Param('id', InvocationIdPipe) id: string): Promise<InvocationDetailView> {
    return this.invocations.get(id);
  }

  /** The output's bytes as the handler returned them; 470 while the invocation runs. */
  @Get(':id/output')
  async output(@Param('id', InvocationIdPipe) id: string, @Res() res: Response): Promise<void> {
    const output = await this.invocations.output(id);
    if (!output.ok) {
      res.status(output.status).json({ message: output.message, restate_code: null });
      return;
    }
    res.status(200);
    if (output.body === null) {
      res.end();
      return;
    }
    res.setHeader('content-type', output.contentType ?? 'application/json');
    res.end(output.body);
  }

  @Patch(':id/cancel')
  async cancel(
    @Param('id', InvocationIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    res.status(STATUS[await this.invocations.cancel(id)]);
  }

  @Patch(':id/kill')
  async kill(
    @Param('id', InvocationIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    res.status(STATUS[await this.invocations.kill(id)]);
  }

  @Patch(':id/pause')
  async pause(
    @Param('id', InvocationIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    res.status(STATUS[await this.invocations.pause(id)]);
  }

  @Patch(':id/resume')
  async resume(@Param('id', InvocationIdPipe) id: string): Promise<void> {
    await this.invocations.resume(id);
  }

  @Patch(':id/purge')
  async purge(@Param('id', InvocationIdPipe) id: string): Promise<void> {
    await this.invocations.purge(id);
  }

  @Patch(':id/restart-as-new')
  restartAsNew(@Param('id', InvocationIdPipe) id: string): Promise<{ new_invocation_id: string }> {
    return this.invocations.restartAsNew(id);
  }

  /** Deprecated by Restate in favour of the PATCH calls; kept for older scripts. */
  @Delete(':id')
  @HttpCode(202)
  async remove(
    @Param('id', InvocationIdPipe) id: string,
    @Query('mode') mode: unknown,
  ): Promise<void> {
    await this.invocations.remove(id, parseDeleteMode(mode));
  }
}
