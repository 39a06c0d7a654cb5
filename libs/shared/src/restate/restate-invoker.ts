import type { InvokeOutcome, StateChanges } from '../protocol/protocol.types';
import { InvokeAbortedError } from '../protocol/handler.client';
import { isCommand, MessageType, messageTypeName, RawMessage } from './framing';
import {
  InvocationAttemptError,
  invokeAttempt,
  invokePath,
  StateCommand,
  stateCommandOf,
} from './invocation';
import type { RequestSigner } from './request-identity';
import type { StreamChoice } from './stream-choice';
import {
  buildMessage,
  CompletionResult,
  decodeAs,
  notificationKey,
  pb,
  runCompletionFromProposal,
} from './messages';

/** What a Restate SDK handler may journal that needs nothing from the runtime but storing. */
const PLAIN_COMMANDS = new Set<number>([
  MessageType.InputCommand,
  MessageType.OutputCommand,
  MessageType.GetEagerStateCommand,
  MessageType.GetEagerStateKeysCommand,
  MessageType.SetStateCommand,
  MessageType.ClearStateCommand,
  MessageType.ClearAllStateCommand,
  MessageType.RunCommand,
  MessageType.SleepCommand,
]);

/** What each command the runtime does not support is, in the SDK's words. */
const FEATURE_OF: Partial<Record<number, string>> = {
  [MessageType.GetLazyStateCommand]: 'lazy state',
  [MessageType.GetLazyStateKeysCommand]: 'lazy state',
  [MessageType.AttachInvocationCommand]: 'attaching to an invocation',
  [MessageType.GetInvocationOutputCommand]: "another invocation's output",
};

/** Signal 1 is the built-in cancel signal: every suspension lists it. */
const CANCEL_SIGNAL = 1;

/** A handler that keeps getting answers is re-invoked at most this often per attempt. */
const MAX_ROUNDS = 64;

/** A call or one-way send a handler made, for the runtime to start. */
export interface OutgoingCall {
  /** The command's place among the invocation's commands (the input is 0): stable on replay. */
  commandIndex: number;
  service: string;
  handler: string;
  key: string;
  input: Uint8Array;
  headers: Record<string, string>;
  /** The completion its result goes to; null for a one-way send. */
  resultCompletionId: number | null;
  /** A one-way send's delay: when it may run (epoch ms); null = now. */
  invokeAt: number | null;
}

export type PromiseOp =
  | { kind: 'get' | 'peek'; name: string; completionId: number }
  | { kind: 'complete'; name: string; completionId: number; result: CompletionResult };

/**
 * What the invoker does for a Restate SDK handler beyond calling it: store its journal, start
 * the calls it makes, keep its workflow's promises, deliver its signals. Each operation is
 * idempotent: a replay after a crash may ask again, and gets the same answer.
 */
export interface RestateRuntime {
  /**
   * Stores entries at position `from` of the journal, and deletes the inbox entries it moved in
   * (`consumed`), only while the claim holds; false when it no longer does (nothing written).
   */
  persist(from: number, entries: RawMessage[], consumed?: string[]): Promise<boolean>;
  /** Starts the callee (same call, same invocation id), or says why it cannot be called. */
  call(call: OutgoingCall): Promise<{ invocationId: string } | { error: string }>;
  /**
   * A workflow promise operation of this invocation's workflow: the notification to journal
   * now, or undefined when a `get` must wait (the runtime delivers it to the inbox later).
   */
  promise(op: PromiseOp): Promise<RawMessage | undefined>;
  /** Delivers a signal (an awakeable's result, a SendSignal) to another invocation. */
  signal(
    targetInvocationId: string,
    signal: { idx: number } | { name: string },
    result: CompletionResult,
  ): Promise<void>;
}

export interface RestateInvokeRequest {
  deploymentUri: string;
  service: string;
  handler: string;
  protocol: {
    minProtocolVersion: number;
    maxProtocolVersion: number;
    protocolMode?: 'BIDI_STREAM' | 'REQUEST_RESPONSE';
    transport?: 'http2' | 'http1';
  };
  invocationId: string;
  /** SERVICE, VIRTUAL_OBJECT or WORKFLOW: workflow promises exist only in workflows. */
  serviceTy?: string;
  key: string;
  input: Buffer;
  headers: Record<string, string>;
  /** The key's state for objects and workflows (sent eagerly); undefined for services. */
  state?: Map<string, Buffer>;
  /** Attempts that failed before this one. */
  retryCount: number;
  /** The journal stored by earlier attempts, replayed first. */
  journal?: RawMessage[];
  /** Notifications that arrived from outside while it waited, moved into the journal first. */
  inbox?: { dedup: string; message: RawMessage }[];
  /** Without it the journal lives for this attempt only and nothing can be waited for. */
  runtime?: RestateRuntime;
  /** Signs each request with Restate's request identity, for SDKs started with `identityKeys`. */
  identity?: RequestSigner;
  timeoutMs?: number;
  maxResponseBytes?: number;
  signal?: AbortSignal;
  /** The clock, for timers. */
  now?: () => number;
  /** HTTP headers of each request (not the handler's input headers): the W3C trace context. */
  attemptHeaders?: Record<string, string>;
  /**
   * To a BIDI_STREAM endpoint over HTTP/2 (with a `runtime`): which rounds stream and which are
   * sent whole, learnt per handler. Without it every such round streams.
   */
  streamChoice?: StreamChoice;
}

/** Thrown inside a round: the invocation ends with this terminal failure. */
class Refused extends Error {
  constructor(
    message: string,
    readonly code = 501,
  ) {
    super(message);
  }
}

/**
 * One attempt of an invocation on a Restate SDK deployment, as the handler protocol's
 * `HandlerClient.invoke` does it for a `@tributary/sdk` one: the same outcome type, so the rest
 * of the invoker does not care which protocol ran. The handler is invoked in rounds
 * (request/response): after each, what it asked for is done (calls started, promises read or
 * completed, signals sent), the answers available now (`ctx.run` results, due timers, call ids)
 * are stored in the journal, and it is invoked again with them; when it waits for something that
 * has not happened, the attempt ends `suspended`, with the time of its next timer if any.
 */
export async function invokeRestate(req: RestateInvokeRequest): Promise<InvokeOutcome> {
  const now = req.now ?? Date.now;
  const journal: RawMessage[] = [...(req.journal ?? [])];
  const stateCommands: StateCommand[] = journal.flatMap((m) => stateCommandOf(m) ?? []);
  const href = `${req.deploymentUri.replace(/\/+$/, '')}${invokePath(req.service, req.handler)}`;
  const deadline = req.timeoutMs === undefined ? undefined : now() + req.timeoutMs;
  const completed = new Set(journal.flatMap((m) => notificationKey(m) ?? []));
  /** Commands in the journal, the input included: the next command's index. */
  let commands = 1 + journal.filter((m) => isCommand(m.type)).length;
  /** The journal's length in Postgres: what is beyond it is not stored yet. */
  let stored = journal.length;

  /** Appends answers (notifications) to the journal. */
  const answer = (entries: RawMessage[]) => {
    for (const e of entries) {
      const k = notificationKey(e);
      if (k) completed.add(k);
    }
    journal.push(...entries);
  };
  /** Stores what the journal holds beyond what is stored (and deletes the inbox entries moved in). */
  const store = async (consumed?: string[]) => {
    if (req.runtime && !(await req.runtime.persist(stored, journal.slice(stored), consumed))) {
      throw new InvokeAbortedError('the claim of the invocation was lost');
    }
    stored = journal.length;
  };
  /**
   * Takes one message the handler wrote: a command joins the journal and is performed (a call
   * started, a promise read...), a `ctx.run` result becomes its completion. Returns the answers
   * available now, already appended to the journal (not stored yet).
   */
  const absorb = async (m: RawMessage): Promise<RawMessage[]> => {
    let answers: RawMessage[];
    if (m.type === MessageType.ProposeRunCompletion) {
      answers = [runCompletionFromProposal(decodeAs(MessageType.ProposeRunCompletion, m))];
    } else if (isCommand(m.type)) {
      journal.push(m);
      answers = await perform(m, commands++, req);
    } else {
      return [];
    }
    answer(answers);
    return answers;
  };

  // What arrived while it waited, and the timers that are due, before it runs again.
  const inbox = req.inbox ?? [];
  answer(inbox.filter((i) => !completed.has(i.dedup)).map((i) => i.message));
  answer(dueTimers(journal, completed, now()));
  if (journal.length > stored || inbox.length > 0) await store(inbox.map((i) => i.dedup));

  // A BIDI_STREAM endpoint over HTTP/2 can be streamed to: answers go on the open request.
  const streamable =
    req.runtime !== undefined &&
    req.protocol.transport !== 'http1' &&
    req.protocol.protocolMode === 'BIDI_STREAM';

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const replayed = journal.length;
    const streaming = streamable && (req.streamChoice?.streams(href) ?? true);
    let result;
    try {
      result = await invokeAttempt({
        baseUrl: req.deploymentUri,
        service: req.service,
        handler: req.handler,
        endpoint: req.protocol,
        transport: req.protocol.transport ?? 'http2',
        invocationId: Buffer.from(req.invocationId),
        debugId: req.invocationId,
        key: req.key,
        input: req.input,
        inputHeaders: req.headers,
        headers: req.attemptHeaders,
        state: req.state,
        journal: journal.slice(),
        retryCountSinceLastStoredEntry: req.retryCount,
        identity: req.identity,
        timeoutMs: deadline === undefined ? undefined : Math.max(1, deadline - now()),
        maxResponseBytes: req.maxResponseBytes,
        signal: req.signal,
        ...(streaming && {
          stream: {
            // A handler that goes quiet waits for something no answer here gives (an awakeable,
            // say): closing its input makes it suspend, and its work so far still completes.
            inactivityTimeoutMs: STREAM_IDLE_MS,
            onMessage: async (m) => {
              const answers = await absorb(m);
              // Stored before the handler sees them: a retry replays them instead of redoing them.
              if (answers.length > 0) await store();
              return { write: answers, endInput: waitsOutside(m, completed, now()) };
            },
          },
        }),
      });
    } catch (err) {
      if (err instanceof Refused) {
        return { kind: 'failure', terminal: true, code: err.code, message: err.message };
      }
      return attemptFailure(href, err, req.signal);
    }
    if (streaming && result.mode === 'bidi-stream') {
      req.streamChoice?.streamed(href, result.written.length > 0);
    } else {
      try {
        for (const m of result.messages) await absorb(m);
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
        return { kind: 'failure', terminal: true, code: err.code, message: err.message };
      }
    }
    stateCommands.push(...result.stateCommands);
    const outcome = result.outcome;
    if (outcome.kind === 'error') {
      // Its commands are stored, as Restate stores each as it arrives: a `ctx.run` that failed
      // is then replayed with the attempts counted, and its own retry policy can give up.
      await store();
      return {
        kind: 'failure',
        terminal: false,
        code: outcome.code,
        message: outcome.message,
        ...(outcome.nextRetryDelayMs !== undefined && { retryAfterMs: outcome.nextRetryDelayMs }),
      };
    }
    if (outcome.kind === 'end') {
      // The end is recorded whole, with the state changes; the journal has served its purpose.
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
    if (!req.runtime) {
      const answered = outcome.waitingCompletions.filter((id) => completed.has(`c:${id}`));
      if (answered.length < outcome.waitingCompletions.length) {
        return {
          kind: 'failure',
          terminal: true,
          code: 501,
          message: `the handler waits for completions [${outcome.waitingCompletions.join(', ')}], which need a durable journal`,
        };
      }
    }
    answer(dueTimers(journal, completed, now()));
    await store();
    const answered =
      journal.length > replayed &&
      (outcome.waitingCompletions.some((id) => completed.has(`c:${id}`)) ||
        outcome.waitingSignals.some((id) => id !== CANCEL_SIGNAL && completed.has(`s:${id}`)) ||
        outcome.waitingNamedSignals.some((name) => completed.has(`n:${name}`)));
    if (answered) {
      // A stream would have carried these answers within the round.
      if (streamable && !streaming) req.streamChoice?.neededAnswers(href);
      continue;
    }
    const wakeAt = nextTimer(journal, completed, outcome.waitingCompletions);
    return { kind: 'suspended', wakeAt, waitingFor: describeWait(journal, outcome, wakeAt) };
  }
  // Nothing failed: its journal is stored; it goes on in a new attempt, at once.
  return {
    kind: 'suspended',
    wakeAt: now(),
    waitingFor: `${MAX_ROUNDS} rounds in one attempt: going on in the next`,
  };
}

/** Over a stream: how long a quiet handler keeps its input open before it is made to suspend. */
const STREAM_IDLE_MS = 100;

/**
 * Whether a command waits for what only the outside gives (a timer not yet due, a call's result,
 * a promise not yet completed): then the handler's input is closed, so that it suspends rather
 * than hold the stream open.
 */
function waitsOutside(m: RawMessage, completed: Set<string>, now: number): boolean {
  switch (m.type) {
    case MessageType.SleepCommand: {
      const s = decodeAs(MessageType.SleepCommand, m);
      return Number(s.wakeUpTime) > now && !completed.has(`c:${s.resultCompletionId}`);
    }
    case MessageType.CallCommand:
      return !completed.has(`c:${decodeAs(MessageType.CallCommand, m).resultCompletionId}`);
    case MessageType.GetPromiseCommand:
      return !completed.has(`c:${decodeAs(MessageType.GetPromiseCommand, m).resultCompletionId}`);
    default:
      return false;
  }
}

/**
 * Does what one new command of the handler asks and returns the notifications that answer it
 * now. Refuses, by name, a command Tributary does not support.
 */
async function perform(
  m: RawMessage,
  commandIndex: number,
  req: RestateInvokeRequest,
): Promise<RawMessage[]> {
  if (PLAIN_COMMANDS.has(m.type) || !isCommand(m.type)) return [];
  const runtime = req.runtime;
  if (!runtime) {
    throw new Refused(
      `${messageTypeName(m.type)} needs a durable journal, which this invocation does not have`,
    );
  }
  switch (m.type) {
    case MessageType.CallCommand:
    case MessageType.OneWayCallCommand: {
      const oneWay = m.type === MessageType.OneWayCallCommand;
      const c = oneWay
        ? decodeAs(MessageType.OneWayCallCommand, m)
        : decodeAs(MessageType.CallCommand, m);
      const started = await runtime.call({
        commandIndex,
        service: c.serviceName,
        handler: c.handlerName,
        key: c.key,
        input: c.parameter,
        headers: Object.fromEntries(c.headers.map((h) => [h.key, h.value])),
        resultCompletionId: oneWay
          ? null
          : (c as { resultCompletionId: number }).resultCompletionId,
        invokeAt:
          oneWay && (c as { invokeTime: bigint }).invokeTime > 0n
            ? Number((c as { invokeTime: bigint }).invokeTime)
            : null,
      });
      if ('error' in started) throw new Refused(started.error, 404);
      return [
        buildMessage(MessageType.CallInvocationIdCompletionNotification, {
          completionId: c.invocationIdNotificationIdx,
          invocationId: started.invocationId,
        }),
      ];
    }
    case MessageType.GetPromiseCommand:
    case MessageType.PeekPromiseCommand: {
      const get = m.type === MessageType.GetPromiseCommand;
      const c = get
        ? decodeAs(MessageType.GetPromiseCommand, m)
        : decodeAs(MessageType.PeekPromiseCommand, m);
      requireWorkflow(req, m.type);
      const answer = await runtime.promise({
        kind: get ? 'get' : 'peek',
        name: c.key,
        completionId: c.resultCompletionId,
      });
      return answer ? [answer] : [];
    }
    case MessageType.CompletePromiseCommand: {
      const c = decodeAs(MessageType.CompletePromiseCommand, m);
      requireWorkflow(req, m.type);
      const result: CompletionResult =
        c.completion.case === 'completionValue'
          ? { case: 'value', value: c.completion.value.content }
          : c.completion.case === 'completionFailure'
            ? {
                case: 'failure',
                code: c.completion.value.code,
                message: c.completion.value.message,
              }
            : { case: 'void' };
      const answer = await runtime.promise({
        kind: 'complete',
        name: c.key,
        completionId: c.resultCompletionId,
        result,
      });
      return answer ? [answer] : [];
    }
    case MessageType.CompleteAwakeableCommand: {
      const c = decodeAs(MessageType.CompleteAwakeableCommand, m);
      const target = parseAwakeableId(c.awakeableId);
      if (!target) throw new Refused(`'${c.awakeableId}' is not an awakeable id`, 400);
      await runtime.signal(target.invocationId, { idx: target.signalIdx }, resultOf(c.result));
      return [];
    }
    case MessageType.SendSignalCommand: {
      const c = decodeAs(MessageType.SendSignalCommand, m);
      const signal =
        c.signalId.case === 'idx'
          ? { idx: c.signalId.value }
          : c.signalId.case === 'name'
            ? { name: c.signalId.value }
            : undefined;
      if (!signal) throw new Refused('SendSignalCommand names no signal', 400);
      await runtime.signal(c.targetInvocationId, signal, resultOf(c.result));
      return [];
    }
    default: {
      const what = FEATURE_OF[m.type] ?? 'this command';
      throw new Refused(
        `${messageTypeName(m.type)} (${what}) is not supported by Tributary yet: the invocation cannot go on`,
      );
    }
  }
}

function requireWorkflow(req: RestateInvokeRequest, type: number): void {
  if (req.serviceTy !== undefined ? req.serviceTy !== 'WORKFLOW' : req.key === '') {
    throw new Refused(`${messageTypeName(type)}: workflow promises exist only in workflows`, 400);
  }
}

function resultOf(
  r: pb.SendSignalCommandMessage['result'] | pb.CompleteAwakeableCommandMessage['result'],
): CompletionResult {
  switch (r.case) {
    case 'value':
      return { case: 'value', value: r.value.content };
    case 'failure':
      return { case: 'failure', code: r.value.code, message: r.value.message };
    case 'void':
    case undefined:
      return { case: 'void' };
  }
}

/** Sleep completions for the journal's timers that are due and not yet fired. */
function dueTimers(journal: RawMessage[], completed: Set<string>, now: number): RawMessage[] {
  const out: RawMessage[] = [];
  for (const m of journal) {
    if (m.type !== MessageType.SleepCommand) continue;
    const s = decodeAs(MessageType.SleepCommand, m);
    if (completed.has(`c:${s.resultCompletionId}`) || Number(s.wakeUpTime) > now) continue;
    out.push(
      buildMessage(MessageType.SleepCompletionNotification, {
        completionId: s.resultCompletionId,
        void: {},
      }),
    );
  }
  return out;
}

/** When the earliest timer it waits for fires; null when it waits for none. */
function nextTimer(
  journal: RawMessage[],
  completed: Set<string>,
  waiting: number[],
): number | null {
  const wanted = new Set(waiting);
  let next: number | null = null;
  for (const m of journal) {
    if (m.type !== MessageType.SleepCommand) continue;
    const s = decodeAs(MessageType.SleepCommand, m);
    if (!wanted.has(s.resultCompletionId) || completed.has(`c:${s.resultCompletionId}`)) continue;
    const at = Number(s.wakeUpTime);
    if (next === null || at < next) next = at;
  }
  return next;
}

function describeWait(
  journal: RawMessage[],
  outcome: {
    waitingCompletions: number[];
    waitingSignals: number[];
    waitingNamedSignals: string[];
  },
  wakeAt: number | null,
): string {
  const parts: string[] = [];
  if (wakeAt !== null) parts.push(`a timer at ${new Date(wakeAt).toISOString()}`);
  const others = outcome.waitingCompletions.length - (wakeAt === null ? 0 : 1);
  if (others > 0) parts.push(`completions [${outcome.waitingCompletions.join(', ')}]`);
  const signals = outcome.waitingSignals.filter((s) => s !== CANCEL_SIGNAL);
  if (signals.length > 0) parts.push(`signals [${signals.join(', ')}]`);
  if (outcome.waitingNamedSignals.length > 0)
    parts.push(`signals [${outcome.waitingNamedSignals.join(', ')}]`);
  return `suspended after ${journal.length} journal entries, waiting for ${parts.join(' or ') || 'nothing named'}`;
}

/**
 * An awakeable id as Restate's SDKs make it: `sign_1` + base64url (no padding) of the
 * invocation id's bytes (StartMessage.id: here the UTF-8 of Tributary's invocation id) followed
 * by the signal index, 4 bytes big-endian.
 */
export function parseAwakeableId(
  id: string,
): { invocationId: string; signalIdx: number } | undefined {
  if (!id.startsWith('sign_1')) return undefined;
  const bytes = Buffer.from(id.slice('sign_1'.length), 'base64url');
  if (bytes.length < 5) return undefined;
  const invocationId = bytes.subarray(0, bytes.length - 4).toString('utf8');
  if (!invocationId.startsWith('inv_')) return undefined;
  return { invocationId, signalIdx: bytes.readUInt32BE(bytes.length - 4) };
}

export function awakeableId(invocationId: string, signalIdx: number): string {
  const idx = Buffer.alloc(4);
  idx.writeUInt32BE(signalIdx);
  return `sign_1${Buffer.concat([Buffer.from(invocationId), idx]).toString('base64url')}`;
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
