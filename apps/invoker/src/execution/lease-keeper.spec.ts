import { LeaseKeeper } from './lease-keeper';

describe('LeaseKeeper', () => {
  const TTL = 9_000;

  function keeper(renew: (ids: string[]) => Promise<void> = async () => undefined) {
    let now = 0;
    const expiring: string[] = [];
    const k = new LeaseKeeper(TTL, renew, { expiring: (id) => void expiring.push(id) }, () => now);
    return { k, expiring, at: (t: number) => (now = t) };
  }

  it('aborts a call that outlives its lease before the lease runs out, so no other invoker can claim it meanwhile', () => {
    const { k, expiring, at } = keeper();
    const run = k.add('inv_1', 0); // lease until 9 000
    at(5_999); // 3 001 ms left: more than TTL/3
    k.abortExpiring();
    expect(run.controller.signal.aborted).toBe(false);
    at(6_000); // TTL/3 left: abort now, well before 9 000
    k.abortExpiring();
    expect(run.controller.signal.aborted).toBe(true);
    expect(run.reason).toBe('lease');
    expect(expiring).toEqual(['inv_1']);
    // Once only.
    k.abortExpiring();
    expect(expiring).toEqual(['inv_1']);
  });

  it('a renewal moves the lease on from when it was sent', async () => {
    const renewed: string[][] = [];
    const { k, at } = keeper(async (ids) => void renewed.push(ids));
    const run = k.add('inv_1', 0);
    at(4_000);
    await k.renewAll();
    expect(renewed).toEqual([['inv_1']]);
    expect(run.leaseUntil).toBe(13_000);
    at(9_500); // past the first lease: still fine after the renewal
    k.abortExpiring();
    expect(run.controller.signal.aborted).toBe(false);
  });

  it('a failed renewal leaves the old lease, and the watchdog aborts in time', async () => {
    const { k, at } = keeper(async () => {
      throw new Error('Postgres unreachable');
    });
    const run = k.add('inv_1', 0);
    at(4_000);
    await expect(k.renewAll()).rejects.toThrow('Postgres unreachable');
    expect(run.leaseUntil).toBe(9_000);
    at(6_000);
    k.abortExpiring();
    expect(run.controller.signal.aborted).toBe(true);
  });

  it('keeps the first abort reason: a kill is not turned into a hand-back', () => {
    const { k, at } = keeper();
    const run = k.add('inv_1', 0);
    k.abort(run, 'kill');
    at(8_000);
    k.abortExpiring();
    expect(run.reason).toBe('kill');
  });
});
