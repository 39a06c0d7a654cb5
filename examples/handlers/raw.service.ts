import { createHash } from 'node:crypto';
import * as t from '@tributary/sdk';
import { logInvocation } from './invocation.logger';

/** Takes the record payload as bytes, exactly as produced: no JSON decoding on the way. */
export const raw = t.service({
  name: 'Raw',
  handlers: {
    ingest: t.handlers.handler({ input: t.serde.binary }, async (ctx, bytes: Uint8Array) => {
      logInvocation(ctx, 'Raw/ingest', { bytes: bytes.length });
      return { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }),
  },
});
