package example;

import dev.restate.sdk.ObjectContext;
import dev.restate.sdk.SharedObjectContext;
import dev.restate.sdk.annotation.Handler;
import dev.restate.sdk.annotation.Shared;
import dev.restate.sdk.annotation.VirtualObject;
import dev.restate.sdk.common.StateKey;
import dev.restate.sdk.common.TerminalException;
import dev.restate.sdk.endpoint.Endpoint;
import dev.restate.sdk.http.vertx.RestateHttpServer;

/**
 * Points per key, written as Restate's Java docs write a virtual object: state through
 * {@code ctx.get} / {@code ctx.set}, a side effect through {@code ctx.run}, and a {@link
 * TerminalException} for input it will never accept.
 */
@VirtualObject
public class Points {

  private static final StateKey<Long> TOTAL = StateKey.of("total", Long.class);
  private static final StateKey<Long> ADDS = StateKey.of("adds", Long.class);

  /** What {@code add} returns. */
  public record Added(String key, long previous, long total, String receipt) {}

  /** Adds a positive number of points to this key's total. */
  @Handler
  public Added add(ObjectContext ctx, long points) {
    if (points <= 0) {
      throw new TerminalException(400, "points must be positive, got " + points);
    }
    long previous = ctx.get(TOTAL).orElse(0L);
    long total = previous + points;
    ctx.set(TOTAL, total);
    ctx.set(ADDS, ctx.get(ADDS).orElse(0L) + 1);
    String invocation = ctx.request().invocationId().toString();
    // A side effect: its result is journaled, so a retried invocation does not run it again.
    String receipt =
        ctx.run(
            "receipt",
            String.class,
            () -> {
              System.out.println("side effect ran for " + invocation);
              return ctx.key() + ":" + total;
            });
    return new Added(ctx.key(), previous, total, receipt);
  }

  /** This key's total. */
  @Shared
  @Handler
  public long get(SharedObjectContext ctx) {
    return ctx.get(TOTAL).orElse(0L);
  }

  /** Forgets this key's state. */
  @Handler
  public void reset(ObjectContext ctx) {
    ctx.clearAll();
  }

  public static void main(String[] args) {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 9080;
    int listening = RestateHttpServer.listen(Endpoint.bind(new Points()), port);
    System.out.println("Points listening on port " + listening);
  }
}
