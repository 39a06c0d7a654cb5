import { asUtf8, fromBase64 } from './decode';

export interface ObjectState {
  service: string;
  key: string;
  version: string;
  entries: { name: string; value: string }[];
}

/**
 * The state as the editor shows it: a JSON object of entry names to their values as text.
 * Returns null when a value is not UTF-8 text (the editor then refuses to edit, to never turn
 * bytes into something else).
 */
export function stateAsText(state: ObjectState): string | null {
  const out: Record<string, string> = {};
  for (const e of state.entries) {
    const text = asUtf8(fromBase64(e.value));
    if (text === null) return null;
    out[e.name] = text;
  }
  return JSON.stringify(out, null, 2);
}

/**
 * The editor's text as Restate's `new_state` (names to byte arrays, UTF-8); throws a message
 * naming the problem.
 */
export function newStateFromText(text: string): Record<string, number[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`The state is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('The state must be a JSON object of entry names to text values');
  }
  const out: Record<string, number[]> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value !== 'string') {
      throw new Error(
        `Entry '${name}' must be text (a JSON value is stored as its text, e.g. "{\\"n\\": 1}")`,
      );
    }
    out[name] = Array.from(new TextEncoder().encode(value));
  }
  return out;
}
