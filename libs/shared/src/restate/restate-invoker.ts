import type { InvokeOutcome, StateChanges } from '../protocol/protocol.types';
import { InvokeAbortedError } from '../protocol/handler.client';
import { MessageType, messageTypeName, RawMessage } from './framing';
import { InvocationAttemptError, invokeAttempt, StateCommand, stateCommandOf } from './invocation';
import { runCompletionFromProposal } from './messages';

/** What the invoker may journal from a Restate SDK handler; anything else is refused by name. */
const SUPPORTED_COMMANDS = new Set<number>([
  MessageType.InputCommand,
  MessageType.OutputCommand,
  MessageType.GetEagerStateCommand,
  MessageType.GetEagerStateKeysCommand,
  MessageType.SetStateCommand,
  MessageType.ClearStateCommand,
  MessageType.ClearAllStateCommand,
  MessageType.RunCommand,
]);

/** What each unsupported command is, in the SDK's words. */
const FEATURE_OF: Partial<Record<number, string>> = {
  [MessageType.SleepCommand]: 'ctx.sleep',
  [MessageType.CallCommand]: 'a call to another service',
  [MessageType.OneWayCallCommand]: 'a one-way send to another service',
  [MessageType.GetPromiseCommand]: 'a workflow promise',
  [MessageType.PeekPromiseCommand]: 'a workflow promise',
  [MessageType.CompletePromiseCommand]: 'a workflow promise',
  [MessageType.CompleteAwakeableCommand]: 'an awakeable',
  [MessageType.SendSignalCommand]: 'a signal',
  [MessageType.GetLazyStateCommand]: 'lazy state',
  [MessageType.GetLazyStateKeysCommand]: 'lazy state',
  [MessageType.AttachInvocationCommand]: 'attaching to an invocation',
  [MessageType.GetInvocationOutputCommand]: "another invocation's output",
};

/** A handler that keeps proposing `ctx.run` results is re-invoked at most this often per attempt. */
const MAX_ROUNDS = 64;

export interface RestateInvokeRequest {
  deploymentUri: string;
  service: string;
  handler: string;
  protocol: { minProtocolVersion: number; maxProtocolVersion: number };
  invocationId: string;
  key: string;
  input: Buffer;
  headers: Record<string, string>;
  /** The key's state for objects and workflows (sent eagerly); undefined for services. */
  state?: Map<string, Buffer>;
  /** Attempts that failed before this one. */
  retryCount: number;
  /** The journal stored by earlier attempts, replayed first. */
  journal?: RawMessage[];
  /**
   * Stores entries at position `from` of the journal before the handler may rely on them (a
   * `ctx.run` result fed back); false when the invocation's claim no longer holds. Without it
   * the journal lives for this attempt only.
   */
  persist?: (from: number, entries: RawMessage[]) => Promise<boolean>;
  timeoutMs?: number;
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

/**
 * One attempt of an invocation on a Restate SDK deployment, as the handler protocol's
 * `HandlerClient.invoke` does it for a `@tributary/sdk` one: the same outcome type, so the rest
 * of the invoker does not care which protocol ran. A `ctx.run` suspends the handler in this
 * (request/response) style; its proposed result is fed back at once, in the same attempt, as the
 * journal's completion. The journal is kept in memory for the attempt only: a retried attempt
 * starts over, and runs its `ctx.run` closures again.
 */
export async function invokeRestate(req: RestateInvokeRequest): Promise<InvokeOutcome> {
  const journal: RawMessage[] = [...(req.journal ?? [])];
  // The state commands of the stored journal count too: they are replayed, not written again.
  const stateCommands: StateCommand[] = journal.flatMap((m) => stateCommandOf(m) ?? []);
  const href = `${req.deploymentUri.replace(/\/+$/, '')}/invoke/${req.service}/${req.handler}`;
  const deadline = req.timeoutMs === undefined ? undefined : Date.now() + req.timeoutMs;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let result;
    try {
      result = await invokeAttempt({
        baseUrl: req.deploymentUri,
        service: req.service,
        handler: req.handler,
        endpoint: req.protocol,
        invocationId: Buffer.from(req.invocationId),
        debugId: req.invocationId,
        key: req.key,
        input: req.input,
        inputHeaders: req.headers,
        state: req.state,
        journal,
        retryCountSinceLastStoredEntry: req.retryCount,
        timeoutMs: deadline === undefined ? undefined : Math.max(1, deadline - Date.now()),
        maxResponseBytes: req.maxResponseBytes,
        signal: req.signal,
      });
    } catch (err) {
      return attemptFailure(href, err, req.signal);
    }
    const unsupported = result.journal.find((m) => !SUPPORTED_COMMANDS.has(m.type));
    if (unsupported) {
      const what = FEATURE_OF[unsupported.type] ?? 'this command';
      return {
        kind: 'failure',
        terminal: true,
        code: 501,
        message: `${messageTypeName(unsupported.type)} (${what}) is not supported by Tributary yet: the invocation cannot go on`,
      };
    }
    stateCommands.push(...result.stateCommands);
    journal.push(...result.journal);
    const outcome = result.outcome;
    switch (outcome.kind) {
      case 'end': {
        const output = outcome.output ?? result.output;
        if (output?.kind === 'failure') {
          return {
            kind: 'failure',
            terminal: true,
            code: output.code,
            message: output.message,
            state: toStateChanges(stateCommands),
          };
        }
        return {
          kind: 'success',
          output: Buffer.from(output?.value ?? new Uint8Array()),
          state: toStateChanges(stateCommands),
        };
      }
      case 'error':
        return {
          kind: 'failure',
          terminal: false,
          code: outcome.code,
          message: outcome.message,
          ...(outcome.nextRetryDelayMs !== undefined && { retryAfterMs: outcome.nextRetryDelayMs }),
        };
      case 'suspended': {
        const proposed = new Map(result.runProposals.map((p) => [p.completionId, p]));
        const missing = outcome.waitingCompletions.filter((id) => !proposed.has(id));
        if (missing.length > 0 || outcome.waitingNamedSignals.length > 0) {
          return {
            kind: 'failure',
            terminal: true,
            code: 501,
            message: `the handler suspended waiting for completions [${missing.join(', ')}]${outcome.waitingNamedSignals.length ? ` and signals [${outcome.waitingNamedSignals.join(', ')}]` : ''} that Tributary cannot provide yet`,
          };
        }
        const from = journal.length;
        const completions = result.runProposals.map((p) => runCompletionFromProposal(p.message));
        journal.push(...completions);
        // Stored before the handler sees the result: a retry replays it instead of running again.
        if (
          req.persist &&
          !(await req.persist(from - result.journal.length, [...result.journal, ...completions]))
        ) {
          throw new InvokeAbortedError('the claim of the invocation was lost');
        }
        continue;
      }
    }
  }
  return {
    kind: 'failure',
    terminal: false,
    code: 500,
    message: `${href} suspended ${MAX_ROUNDS} times in one attempt; giving the attempt up`,
  };
}

/** The state commands of an attempt, in order, as one set of changes. */
export function toStateChanges(commands: StateCommand[]): StateChanges {
  const set = new Map<string, Buffer>();
  const clear = new Set<string>();
  let clearAll = false;
  for (const c of commands) {
    if (c.op === 'clearAll') {
      clearAll = true;
      set.clear();
      clear.clear();
      continue;
    }
    const name = Buffer.from(c.key).toString('utf8');
    if (c.op === 'set') {
      set.set(name, Buffer.from(c.value));
      clear.delete(name);
    } else {
      set.delete(name);
      clear.add(name);
    }
  }
  return { set, clear: [...clear], clearAll };
}

function attemptFailure(href: string, err: unknown, signal?: AbortSignal): InvokeOutcome {
  if (!(err instanceof InvocationAttemptError)) throw err;
  switch (err.kind) {
    case 'aborted':
      throw new InvokeAbortedError(signal?.reason);
    case 'timeout':
      return {
        kind: 'failure',
        terminal: false,
        code: 504,
        message: `no answer from ${href}: ${err.message}`,
      };
    case 'http-status':
      return {
        kind: 'failure',
        terminal: false,
        code: err.status ?? 502,
        message: `${href}: ${err.message}`,
      };
    case 'transport':
      return { kind: 'failure', terminal: false, code: 503, message: `${href}: ${err.message}` };
    case 'too-large':
    case 'content-type':
    case 'incomplete':
    case 'protocol':
    case 'unsupported-version':
      return { kind: 'failure', terminal: false, code: 502, message: `${href}: ${err.message}` };
  }
}
