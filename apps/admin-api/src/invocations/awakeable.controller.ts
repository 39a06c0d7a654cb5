import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { deliverToInbox, Shards } from '@tributary/shared';
import { buildMessage, mediaType, MessageType, parseAwakeableId } from '@tributary/shared/restate';
import type { Request } from 'express';
import { AdminError } from '../common/admin-error';
import { InvocationControlSender } from './invocation-control.sender';

/**
 * Resolves and rejects the awakeables of Restate SDK handlers (`ctx.awakeable()`), at the paths
 * Restate's ingress has them: `POST /restate/awakeables/{id}/resolve` with the value as the body
 * (JSON, or any bytes with another content type: given to the handler as sent), and
 * `POST .../reject` with the failure's message as the body (text, or a JSON string). 202 when
 * delivered; the handler's invocation wakes and goes on.
 */
@Controller('restate/awakeables')
export class AwakeableController {
  constructor(
    @Inject(Shards) private readonly shards: Shards,
    private readonly control: InvocationControlSender,
  ) {}

  @Post(':id/resolve')
  @HttpCode(202)
  async resolve(@Param('id') id: string, @Req() req: Request): Promise<void> {
    const value = bodyBytes(req);
    await this.deliver(id, { case: 'value', value: { content: value } });
  }

  @Post(':id/reject')
  @HttpCode(202)
  async reject(@Param('id') id: string, @Req() req: Request): Promise<void> {
    const bytes = bodyBytes(req);
    const text = bytes.toString('utf8');
    let message = text;
    if (mediaType(req.headers['content-type']) === 'application/json') {
      const parsed: unknown = JSON.parse(text);
      message = typeof parsed === 'string' ? parsed : text;
    }
    await this.deliver(id, { case: 'failure', value: { code: 500, message } });
  }

  private async deliver(
    awakeableId: string,
    result:
      | { case: 'value'; value: { content: Uint8Array } }
      | { case: 'failure'; value: { code: number; message: string } },
  ): Promise<void> {
    const target = parseAwakeableId(awakeableId);
    if (!target) {
      throw AdminError.badRequest(
        `'${awakeableId}' is not an awakeable id: expected the id ctx.awakeable() gave (sign_1...)`,
      );
    }
    const message = buildMessage(MessageType.SignalNotification, {
      signalId: { case: 'idx', value: target.signalIdx },
      result,
    });
    const db = await this.shards.locate(target.invocationId);
    const { found, woken } = await (db ?? this.shards.all[0]).transaction(async (tx) => {
      const [row]: { status: string }[] = await tx.query(
        `SELECT status FROM invocations WHERE id = $1`,
        [target.invocationId],
      );
      if (!row || row.status === 'completed') return { found: false, woken: [] };
      const woken = await deliverToInbox(tx, [
        { id: target.invocationId, dedup: `s:${target.signalIdx}`, ...message },
      ]);
      return { found: true, woken };
    });
    if (!found) {
      throw AdminError.notFound(
        `The awakeable '${awakeableId}' does not exist: its invocation '${target.invocationId}' is unknown or completed`,
      );
    }
    for (const w of woken) await this.control.send(w, 'wake');
  }
}

/**
 * The request body as sent (`configureAdminHttp` reads these routes' bodies raw); a body sent as
 * JSON must be JSON.
 */
function bodyBytes(req: Request): Buffer {
  const body: unknown = req.body;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  if (mediaType(req.headers['content-type']) === 'application/json' && bytes.length > 0) {
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw AdminError.badRequest(
        `The body is not JSON, although its content type says it is: ${(err as Error).message}`,
      );
    }
  }
  return bytes;
}
