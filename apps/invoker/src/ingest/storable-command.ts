import type { InvocationCommand } from '@tributary/shared';

const NUL = '\u0000';

/** The text fields of a command that go into Postgres `text` columns, which cannot hold U+0000. */
function textFields(c: InvocationCommand): [string, string | null][] {
  return [
    ['target service', c.target.service],
    ['target handler', c.target.handler],
    ['key', c.target.key],
    ['subscription id', c.subscriptionId],
    ['record topic', c.record.topic],
    ['record offset', c.record.offset],
    ['record timestamp', c.record.timestamp],
    ['dead-letter topic', c.deadLetterTopic],
    ['failure', c.failure],
  ];
}

const clean = (text: string): string => text.replaceAll(NUL, '\uFFFD');

/**
 * The command as Postgres can store it. Headers and the body can hold any bytes (they go into
 * `json` and `bytea`); a text field holding U+0000 cannot, and a consumer worker never makes
 * one (a key with a NUL is refused there). Should one arrive anyway, from another writer of the
 * bus, its insert is refused; the ingestor then stores it through this, as a failed invocation
 * that says which field. Off the per-record path: only a refused command is looked at.
 */
export function storableCommand(c: InvocationCommand): InvocationCommand {
  const bad = textFields(c).find(([, v]) => v !== null && v.includes(NUL));
  const policy = c.retryPolicy === null ? '' : JSON.stringify(c.retryPolicy);
  const badPolicy = policy.includes('\\u0000');
  if (bad === undefined && !badPolicy) return c;
  return failedCommand(
    c,
    `the invocation command's ${bad?.[0] ?? 'retry policy'} contains U+0000 (a NUL byte), which cannot be stored; the record was not delivered`,
    { keepHeaders: true },
  );
}

/**
 * A command turned into a failed invocation with `failure` as its reason: every text field
 * cleaned of U+0000 and, unless `keepHeaders`, the headers dropped, so nothing in it can fail an
 * insert. The body is kept (bytea holds any bytes): a dead-letter topic gets the record whole.
 */
export function failedCommand(
  c: InvocationCommand,
  failure: string,
  { keepHeaders = false } = {},
): InvocationCommand {
  return {
    ...c,
    subscriptionId: clean(c.subscriptionId),
    target: {
      ...c.target,
      service: clean(c.target.service),
      handler: clean(c.target.handler),
      key: clean(c.target.key),
    },
    record: {
      ...c.record,
      topic: clean(c.record.topic),
      offset: /^-?\d{1,19}$/.test(c.record.offset) ? c.record.offset : '-1',
      timestamp: /^-?\d{1,19}$/.test(c.record.timestamp) ? c.record.timestamp : '-1',
    },
    headers: keepHeaders ? c.headers : {},
    rawHeaders: keepHeaders ? c.rawHeaders : {},
    failure: clean(failure),
    retryPolicy: null,
    deadLetterTopic: c.deadLetterTopic === null ? null : clean(c.deadLetterTopic),
  };
}
