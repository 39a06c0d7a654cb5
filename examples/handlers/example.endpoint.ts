import * as t from '@tributary/sdk';
import { counter } from './counter.object';
import { greeter } from './greeter.service';
import { raw } from './raw.service';
import { signup } from './signup.workflow';

export const exampleServices = [counter, greeter, raw, signup];

/** Started by main.ts, and in-process by the protocol conformance tests (with `port: 0`). */
export function startExampleEndpoint(
  options: { port?: number; signingKey?: string } = {},
): Promise<t.RunningEndpoint> {
  return t.serve({ services: exampleServices, ...options });
}
