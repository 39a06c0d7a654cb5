// The journal a real @restatedev/restate-sdk handler writes, decoded: what the SDK emits for
// state, a one-way call, a sleep, a call and a ctx.run reads back as Restate names it.
import '../../../../test/support/restate-polyfill';
import * as restate from '@restatedev/restate-sdk';
import { RunningEndpoint, startHttp2Endpoint } from '../../../../test/support/restate-sdk-servers';
import { discoverEndpoint } from './discovery';
import { MessageType } from './framing';
import { invokeAttempt } from './invocation';
import { decodeJournal } from './journal-view';
import { runCompletionFromProposal } from './messages';

const quiet: restate.LoggerTransport = () => undefined;

const journaling = restate.object({
  name: 'JournalShow',
  handlers: {
    go: async (ctx: restate.ObjectContext) => {
      ctx.set('count', 1);
      ctx.clear('old');
      ctx.genericSend({
        service: 'Mailer',
        method: 'send',
        parameter: Buffer.from('"hi"'),
        delay: 5_000,
      });
      const nap = ctx.sleep(60_000, 'nap');
      const call = ctx.genericCall({
        service: 'Ledger',
        method: 'record',
        key: 'acct-1',
        parameter: Buffer.from('{"amount":42}'),
      });
      const charge = ctx.run('charge', () => 'charged');
      await restate.RestatePromise.all([nap, call, charge]);
      return 'done';
    },
  },
});

describe('decodeJournal on what the Restate SDK writes', () => {
  let ep: RunningEndpoint;

  beforeAll(async () => {
    ep = await startHttp2Endpoint(
      restate.endpoint().setLogger(quiet).bind(journaling).http2Handler({ bidirectional: false }),
    );
  });

  afterAll(async () => {
    await ep?.close();
  });

  it('names each command, its target, wake-up time and completion', async () => {
    const before = Date.now();
    const { manifest } = await discoverEndpoint(ep.url);
    const attempt = await invokeAttempt({
      baseUrl: ep.url,
      endpoint: manifest,
      transport: 'http2',
      service: 'JournalShow',
      handler: 'go',
      key: 'k',
      input: new Uint8Array(),
      invocationId: Buffer.from('journal-view-sdk-1'),
      debugId: 'inv_journalviewsdk1',
    });
    expect(attempt.outcome.kind).toBe('suspended');
    // What the runtime stores: the commands, then the run's result as a notification.
    const stored = [
      ...attempt.journal,
      ...attempt.runProposals.map((p) => runCompletionFromProposal(p.message)),
    ];
    const views = decodeJournal(stored.map((m, idx) => ({ idx, type: m.type, body: m.body })));

    expect(views.map((v) => v.entry_type)).toEqual([
      'Command: SetState',
      'Command: ClearState',
      'Command: OneWayCall',
      'Command: Sleep',
      'Command: Call',
      'Command: Run',
      'Notification: Run',
    ]);
    expect(views.map((v) => v.decode_error)).toEqual(views.map(() => null));
    const [set, clear, send, sleep, call, run, ran] = views;
    expect(set.entry).toMatchObject({
      state_key: { encoding: 'utf8', content: 'count' },
      value: { encoding: 'utf8', content: '1' },
    });
    expect(clear.entry).toMatchObject({ state_key: { content: 'old' } });
    expect(send).toMatchObject({
      invoked_target: 'Mailer/send',
      completed: null,
      entry: { parameter: { content: '"hi"' } },
    });
    expect(Date.parse(send.entry!.invoke_time!)).toBeGreaterThanOrEqual(before);
    expect(sleep).toMatchObject({ name: 'nap', completed: false });
    expect(Date.parse(sleep.sleep_wakeup_at!)).toBeGreaterThanOrEqual(before + 60_000);
    expect(call).toMatchObject({
      invoked_target: 'Ledger/acct-1/record',
      invoked_id: null,
      completed: false,
      entry: { parameter: { content: '{"amount":42}' } },
    });
    expect(run).toMatchObject({ name: 'charge', completed: true });
    expect(ran).toMatchObject({
      entry: {
        completion_id: run.entry!.result_completion_id,
        result: { kind: 'value', value: { encoding: 'utf8', content: '"charged"' } },
      },
    });
    expect(stored.at(-1)!.type).toBe(MessageType.RunCompletionNotification);
  });
});
