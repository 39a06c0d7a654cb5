import { ATTR, Link, Span, SpanKind, tracing } from '@tributary/shared';
import type { ArrivedCommand } from '../execution/invocation.store';

/**
 * The span of one insert of bus commands into Postgres, when tracing is on: one insert serves
 * many records, so it links to each command's trace context (the worker's record span) rather
 * than having a parent. Undefined when tracing is off.
 */
export function traceInsert(commands: readonly ArrivedCommand[]): Span | undefined {
  if (!tracing.on) return undefined;
  const links: Link[] = [];
  for (const { command } of commands) {
    const link = tracing.linkTo(command.headers);
    if (link) links.push(link);
  }
  return tracing.startSpan(
    'insert invocations',
    SpanKind.INTERNAL,
    {
      'db.system.name': 'postgresql',
      'db.operation.name': 'INSERT',
      [ATTR.batchCount]: commands.length,
    },
    undefined,
    links,
  );
}
