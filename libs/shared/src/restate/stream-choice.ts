/** Streamed attempts in a row with nothing written before a handler's rounds go whole. */
export const DEFAULT_QUIET_ATTEMPTS = 32;

/**
 * Per handler, whether its next round streams (HTTP/2 to a BIDI_STREAM endpoint, the request
 * left open for answers) or is sent whole (request/response: the request body closed after the
 * journal, the SDK suspending at the first thing it needs).
 *
 * Streaming saves a round when the runtime has an answer at once (a `ctx.run` result, a call's
 * invocation id, a promise already completed); a round sent whole costs the invoker less (no hook
 * per message, no open request to close): in S1-restate-sdk, where the handler needs no answer,
 * 397 against 463 µs of the invoker's CPU per event, 1.20× the events/s (docs/benchmarks.md).
 * So a handler streams until `quietAttempts` streamed attempts in a row had nothing written to
 * them; then its rounds go whole, until one ends suspended on an answer that was there at once,
 * which a stream would have carried: from the next round on it streams again. A handler that
 * needs answers now and then pays at most one extra round per `quietAttempts` invocations.
 *
 * Handlers are keyed by the URL they are invoked at (deployment, service, handler); there is one
 * entry per handler, as many as are registered.
 */
export class StreamChoice {
  /** Streamed attempts in a row with nothing written to them, per handler, up to the bound. */
  private readonly quiet = new Map<string, number>();

  constructor(readonly quietAttempts = DEFAULT_QUIET_ATTEMPTS) {}

  /** Whether the handler's next round streams. */
  streams(handler: string): boolean {
    return (this.quiet.get(handler) ?? 0) < this.quietAttempts;
  }

  /** A streamed attempt ended: `wrote` when the runtime wrote answers on its stream. */
  streamed(handler: string, wrote: boolean): void {
    const quiet = wrote ? 0 : Math.min(this.quietAttempts, (this.quiet.get(handler) ?? 0) + 1);
    this.quiet.set(handler, quiet);
  }

  /** A round sent whole ended suspended on answers the runtime had at once: stream again. */
  neededAnswers(handler: string): void {
    this.quiet.set(handler, 0);
  }
}
