import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { InvocationPayloadEntity, Shards } from '@tributary/shared';
import type { Response } from 'express';
import { AdminError } from '../common/admin-error';
import { InvocationIdPipe } from '../invocations/invocation-id.pipe';

/**
 * `GET /invocations/{id}/input`: the bytes the handler is called with (the record's value), with
 * the record's `content-type` header when it has one, else `application/octet-stream`. The
 * console shows them as JSON, text or hex.
 */
@Controller('invocations')
export class InvocationInputController {
  constructor(@Inject(Shards) private readonly shards: Shards) {}

  @Get(':id/input')
  async input(@Param('id', InvocationIdPipe) id: string, @Res() res: Response): Promise<void> {
    const db = await this.shards.locate(id);
    const payload = await db
      ?.getRepository(InvocationPayloadEntity)
      .findOne({ select: ['input', 'headers'], where: { id } });
    if (!payload) {
      throw AdminError.notFound(`The requested invocation '${id}' does not exist`);
    }
    const type = Object.entries(payload.headers ?? {}).find(
      ([k]) => k.toLowerCase() === 'content-type',
    )?.[1];
    res
      .status(200)
      .setHeader('content-type', type ?? 'application/octet-stream')
      // The type comes from a record: never let a browser run it as a page of this origin.
      .setHeader('content-security-policy', "sandbox; default-src 'none'")
      .setHeader('x-content-type-options', 'nosniff')
      .end(payload.input ?? Buffer.alloc(0));
  }
}
