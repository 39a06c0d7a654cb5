/** What `pgArray` writes: the element types of the invoker's batched statements. */
export type PgArrayElement = string | number | boolean | null;

/**
 * An array parameter (`$1::text[]`, `int[]`, `bigint[]`, `boolean[]`, `json[]`) as Postgres array
 * text, written by `JSON.stringify`. pg's own conversion escapes element by element with two
 * regular expressions and joins the pieces: for the batched statements of the invoker it was the
 * largest allocation of the process. The two formats agree wherever JSON escapes nothing but `"`
 * and `\` (as `\"` and `\\`, which are the array literal's escapes too): strings are quoted the
 * same, and JSON's `null` is the literal's NULL. JSON escapes anything else (a control character,
 * a lone surrogate) as `\n`, `\u0000` and the like, which the array literal would read as `n`,
 * `u0000`: such an array goes to pg as it is. Not for bytea or dates.
 */
export function pgArray(values: readonly PgArrayElement[]): string | readonly PgArrayElement[] {
  const json = JSON.stringify(values);
  if (OTHER_ESCAPE.test(json)) return values;
  return `{${json.slice(1, -1)}}`;
}

/** A JSON escape other than `\"` and `\\`: a backslash run of odd length before another character. */
const OTHER_ESCAPE = /(?<!\\)(?:\\\\)*\\[^"\\]/;
