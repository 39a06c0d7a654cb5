import type { Context } from '@tributary/sdk';

type Fields = Record<string, string | number | undefined>;

/** One line per invocation, enough to follow a record from Kafka to its handler. */
export function logInvocation(ctx: Context, target: string, fields: Fields = {}): void {
  const req = ctx.request();
  const all: Fields = { id: req.id, attempt: req.attemptNumber, ...fields };
  const parts = Object.entries(all).flatMap(([k, v]) =>
    v === undefined ? [] : [`${k}=${format(v)}`],
  );
  console.log(`${target} ${parts.join(' ')}`);
}

// Quoted only when needed, so an empty or spaced key stays visible.
function format(value: string | number): string {
  return typeof value === 'string' && (value === '' || /\s|"/.test(value))
    ? JSON.stringify(value)
    : String(value);
}
