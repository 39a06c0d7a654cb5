import type { OpenInvocation } from '../execution/invocation.store';
import { InvocationScheduler } from './invocation.scheduler';

let seq = 0n;
function inv(id: string, over: Partial<OpenInvocation> = {}): OpenInvocation {
  seq += 1n;
  return {
    id,
    seq,
    busPartition: 0,
    exclusive: true,
    service: 'Counter',
    handler: 'add',
    key: 'k',
    status: 'pending',
    dueAt: 0,
    ...over,
  };
}

describe('InvocationScheduler', () => {
  let now = 1_000;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000;
  });

  it('runs exclusive invocations of one key one at a time, in arrival order', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([inv('a1'), inv('a2'), inv('a3')]);
    expect(s.take().map((i) => i.id)).toEqual(['a1']);
    expect(s.take()).toEqual([]);
    s.finish('a1', { kind: 'done' });
    expect(s.take().map((i) => i.id)).toEqual(['a2']);
    s.finish('a2', { kind: 'done' });
    expect(s.take().map((i) => i.id)).toEqual(['a3']);
  });

  it('hands the next invocation of a key over with the end of the one before it', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([inv('h1'), inv('h2'), inv('h3'), inv('o1', { key: 'other' })]);
    expect(s.take().map((i) => i.id)).toEqual(['h1', 'o1']);
    // Only the running head of a key has a successor, and only one, once.
    expect(s.successor('h2')).toBeUndefined();
    expect(s.successor('o1')).toBeUndefined();
    expect(s.successor('h1')?.id).toBe('h2');
    expect(s.successor('h1')).toBeUndefined();
    expect(s.isInFlight('h2')).toBe(true);
    s.finish('h1', { kind: 'done' });
    // h2 runs now (handed over), so nothing else of the key is handed out.
    expect(s.take()).toEqual([]);
    s.finish('h2', { kind: 'done' });
    expect(s.take().map((i) => i.id)).toEqual(['h3']);
  });

  it('hands over nothing that may not run yet, and a refused successor waits its turn', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([inv('p1'), inv('p2', { status: 'backing-off', dueAt: 5_000 }), inv('p3')]);
    s.take();
    expect(s.successor('p1')).toBeUndefined();
    s.upsert([inv('q1', { key: 'q' }), inv('q2', { key: 'q' })]);
    s.take();
    expect(s.successor('q1')?.id).toBe('q2');
    // The claim of q2 was refused (q1's end not recorded): q2 waits, q1 still holds the key.
    s.finish('q2', { kind: 'again', status: 'pending', dueAt: 0 });
    expect(s.take()).toEqual([]);
    s.finish('q1', { kind: 'done' });
    expect(s.take().map((i) => i.id)).toEqual(['q2']);
  });

  it('runs different keys in parallel, not limited by anything but concurrency', () => {
    const s = new InvocationScheduler(1000, clock);
    s.upsert(Array.from({ length: 1000 }, (_, i) => inv(`k${i}`, { key: `key-${i}` })));
    expect(s.take()).toHaveLength(1000);
  });

  it('bounds what runs at once by the concurrency', () => {
    const s = new InvocationScheduler(3, clock);
    s.upsert(
      Array.from({ length: 10 }, (_, i) => inv(`s${i}`, { exclusive: false, status: 'ready' })),
    );
    expect(s.take()).toHaveLength(3);
    expect(s.take()).toHaveLength(0);
    s.finish('s0', { kind: 'done' });
    expect(s.take().map((i) => i.id)).toEqual(['s3']);
  });

  it('tells whoever waits for room when an invocation finishes', async () => {
    const s = new InvocationScheduler(1, clock);
    s.upsert([inv('w1', { exclusive: false, status: 'ready' })]);
    expect(s.take()).toHaveLength(1);
    expect(s.free).toBe(0);
    let told = 0;
    const waiting = [s.nextFinish(), s.nextFinish()].map((p) => p.then(() => told++));
    await Promise.resolve();
    expect(told).toBe(0);
    s.finish('w1', { kind: 'done' });
    await Promise.all(waiting);
    expect(told).toBe(2);
    expect(s.free).toBe(1);
  });

  it('keeps a backing-off head blocking its key until it is due', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([inv('b1'), inv('b2')]);
    s.take();
    s.finish('b1', { kind: 'again', status: 'backing-off', dueAt: 1_500 });
    expect(s.take()).toEqual([]);
    expect(s.nextDueAt()).toBe(1_500);
    now = 1_500;
    expect(s.take().map((i) => i.id)).toEqual(['b1']);
  });

  it('keeps a paused exclusive invocation holding its key; a paused service invocation is dropped', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([inv('p1'), inv('p2'), inv('x', { exclusive: false, status: 'ready' })]);
    expect(
      s
        .take()
        .map((i) => i.id)
        .sort(),
    ).toEqual(['p1', 'x']);
    s.finish('p1', { kind: 'paused' });
    s.finish('x', { kind: 'paused' });
    expect(s.take()).toEqual([]);
    expect(s.has('x')).toBe(false);
    // resumed through the admin API: reloaded as pending
    s.upsert([{ ...inv('p1'), seq: 0n, status: 'pending' }]);
    expect(s.take().map((i) => i.id)).toEqual(['p1']);
  });

  it('puts an invocation that arrives late but is older in front of its key', () => {
    const s = new InvocationScheduler(10, clock);
    const late = inv('old');
    const young = inv('young');
    s.upsert([young]);
    s.upsert([late]);
    expect(s.take().map((i) => i.id)).toEqual(['old']);
  });

  it('forgets invocations of partitions it no longer owns, except those in flight', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([
      inv('r', { key: 'r', busPartition: 1 }),
      inv('w', { key: 'w', busPartition: 1 }),
      inv('w2', { key: 'w', busPartition: 1 }),
    ]);
    expect(s.take().map((i) => i.id)).toEqual(['r', 'w']);
    s.dropPartitions(new Set([1]));
    expect([s.has('r'), s.has('w'), s.has('w2')]).toEqual([true, true, false]);
  });

  it('does not hand out an invocation twice when it is upserted again while queued', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([inv('d', { exclusive: false, status: 'ready' })]);
    s.upsert([inv('d', { exclusive: false, status: 'ready' })]);
    expect(s.take().map((i) => i.id)).toEqual(['d']);
    expect(s.take()).toEqual([]);
  });

  it('counts waiting invocations by key class', () => {
    const s = new InvocationScheduler(10, clock);
    s.upsert([inv('e1'), inv('e2'), inv('p', { exclusive: false, status: 'ready' })]);
    expect(s.waiting()).toEqual({ exclusive: 2, parallel: 1 });
    s.take();
    expect(s.waiting()).toEqual({ exclusive: 1, parallel: 0 });
  });
});
