import { keyOf, mayStart } from '@tributary/shared';
import type { OpenInvocation } from '../execution/invocation.store';

interface Slot {
  inv: OpenInvocation;
  /** Where the slot is queued, so it is queued at most once. */
  queued: 'ready' | 'delayed' | null;
}

export type Finish =
  /** Completed, or no longer ours: forget it and let the next one of its key go. */
  | { kind: 'done' }
  /** Runs again later (backing off, handed back, claim refused for now). */
  | { kind: 'again'; status: OpenInvocation['status']; dueAt: number }
  /** Paused: an exclusive one keeps holding its key, as in Restate. */
  | { kind: 'paused' };

/**
 * What runs next, in memory. Exclusive invocations wait in a queue per key, in arrival (`seq`)
 * order, and the ordering rule (`mayStart`, from the shared ordering module) decides what may
 * start: only the head of a key's queue; everything else as soon as it is due. `take` hands out
 * at most `concurrency` invocations at a time. Pure bookkeeping, no I/O: the executor claims
 * what it is handed in Postgres, where the same rule is checked again (`mayRunSql`).
 */
export class InvocationScheduler {
  private readonly slots = new Map<string, Slot>();
  /** Ids of the slots whose status is `suspended`. */
  private readonly suspended = new Set<string>();
  private readonly keyQueues = new Map<string, OpenInvocation[]>();
  private readonly ready: string[] = [];
  private readyHead = 0;
  private readonly delayed = new MinHeap<string>();
  private readonly inFlight = new Set<string>();
  /** Resolved at the next `finish`: concurrency may have come free. */
  private freed: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    private readonly concurrency: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  /**
   * Open invocations held here that are not suspended: what ingestion's backpressure counts. A
   * suspended one waits for the outside (an awakeable, a long timer) and may wait for days: it
   * must not stop the bus from being read, or what it waits for (a call, a `wake`) never comes.
   */
  get active(): number {
    return this.slots.size - this.suspended.size;
  }

  get running(): number {
    return this.inFlight.size;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  isInFlight(id: string): boolean {
    return this.inFlight.has(id);
  }

  /** Adds invocations, or refreshes ones already known (not those in flight). */
  upsert(invocations: OpenInvocation[]): void {
    for (const inv of invocations) {
      if (this.inFlight.has(inv.id)) continue;
      const existing = this.slots.get(inv.id);
      if (existing) {
        // Already waiting to be handed out and still due: queued once is enough.
        if (
          existing.queued === 'ready' &&
          inv.dueAt <= this.now() &&
          existing.inv.status === inv.status
        )
          continue;
        this.setStatus(existing, inv.status);
        existing.inv.dueAt = inv.dueAt;
        existing.queued = null;
        if (inv.status === 'paused' && !inv.exclusive) this.forget(inv.id);
        else this.enqueue(existing);
        continue;
      }
      if (inv.status === 'paused' && !inv.exclusive) continue;
      const slot: Slot = { inv: { ...inv }, queued: null };
      this.slots.set(inv.id, slot);
      if (inv.status === 'suspended') this.suspended.add(inv.id);
      if (inv.exclusive) this.addToKeyQueue(slot.inv);
      this.enqueue(slot);
    }
  }

  private setStatus(slot: Slot, status: OpenInvocation['status']): void {
    slot.inv.status = status;
    if (status === 'suspended') this.suspended.add(slot.inv.id);
    else this.suspended.delete(slot.inv.id);
  }

  /** Concurrency not yet used: what `take` could hand out now. */
  get free(): number {
    return Math.max(0, this.concurrency - this.inFlight.size);
  }

  /** Resolves at the next `finish` (concurrency may have come free); one promise for all waiters. */
  nextFinish(): Promise<void> {
    if (!this.freed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.freed = { promise, resolve };
    }
    return this.freed.promise;
  }

  /** The oldest open invocation of the key known here, if any: what `mayStart` needs. */
  keyHead(service: string, key: string): string | undefined {
    return this.keyQueues.get(keyOf(service, key))?.[0]?.id;
  }

  /** Invocations that started when they were inserted: in flight until `finish`. */
  started(invocations: OpenInvocation[]): void {
    for (const inv of invocations) {
      if (this.slots.has(inv.id)) continue;
      const slot: Slot = { inv: { ...inv }, queued: null };
      this.slots.set(inv.id, slot);
      if (inv.exclusive) this.addToKeyQueue(slot.inv);
      this.inFlight.add(inv.id);
    }
  }

  /** Invocations to start now, at most the free concurrency; they are in flight until `finish`. */
  take(): OpenInvocation[] {
    const now = this.now();
    while (this.delayed.size > 0 && this.delayed.peekKey()! <= now) {
      const id = this.delayed.pop()!;
      const slot = this.slots.get(id);
      if (slot?.queued === 'delayed') {
        slot.queued = 'ready';
        this.ready.push(id);
      }
    }
    const out: OpenInvocation[] = [];
    while (this.inFlight.size < this.concurrency && this.readyHead < this.ready.length) {
      const id = this.ready[this.readyHead++];
      const slot = this.slots.get(id);
      if (!slot || slot.queued !== 'ready') continue;
      slot.queued = null;
      if (!this.eligible(slot.inv, now)) {
        this.enqueue(slot);
        continue;
      }
      this.inFlight.add(id);
      out.push(slot.inv);
    }
    if (this.readyHead > 4096 && this.readyHead * 2 > this.ready.length) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
    return out;
  }

  finish(id: string, result: Finish): void {
    this.inFlight.delete(id);
    if (this.freed) {
      this.freed.resolve();
      this.freed = null;
    }
    const slot = this.slots.get(id);
    if (!slot) return;
    switch (result.kind) {
      case 'done':
        this.forget(id);
        return;
      case 'paused':
        this.setStatus(slot, 'paused');
        if (!slot.inv.exclusive) this.forget(id);
        return;
      case 'again':
        this.setStatus(slot, result.status);
        slot.inv.dueAt = result.dueAt;
        this.enqueue(slot);
        return;
    }
  }

  /**
   * The invocation after `id` (exclusive, in flight, at the head of its key's queue) in its key's
   * queue, handed out now if it may run: the executor claims it in the transaction that records
   * the end of `id`, so the key goes from one to the next without waiting for a claim of its own.
   * It stays in flight until `finish`, like anything `take` hands out.
   */
  successor(id: string): OpenInvocation | undefined {
    const slot = this.slots.get(id);
    if (!slot?.inv.exclusive || !this.inFlight.has(id)) return undefined;
    const queue = this.keyQueues.get(queueKey(slot.inv));
    if (queue?.[0]?.id !== id || queue.length < 2) return undefined;
    const next = this.slots.get(queue[1].id);
    if (!next || this.inFlight.has(next.inv.id)) return undefined;
    // With `id` ended, `next` is the key's head.
    if (!mayStart(next.inv, next.inv.id, this.now())) return undefined;
    next.queued = null;
    this.inFlight.add(next.inv.id);
    return next.inv;
  }

  /** Forgets an invocation (completed elsewhere, purged, or its partition moved away). */
  forget(id: string): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    this.slots.delete(id);
    this.suspended.delete(id);
    slot.queued = null;
    if (!slot.inv.exclusive) return;
    const k = queueKey(slot.inv);
    const queue = this.keyQueues.get(k);
    if (!queue) return;
    const i = queue.findIndex((q) => q.id === id);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) {
      this.keyQueues.delete(k);
    } else if (i === 0) {
      const head = this.slots.get(queue[0].id);
      if (head) this.enqueue(head);
    }
  }

  /** Forgets every invocation of bus partitions this invoker no longer owns (not those in flight). */
  dropPartitions(partitions: ReadonlySet<number>): void {
    for (const [id, slot] of this.slots) {
      if (partitions.has(slot.inv.busPartition) && !this.inFlight.has(id)) this.forget(id);
    }
  }

  /** When the next delayed invocation becomes due, if any. */
  nextDueAt(): number | undefined {
    return this.delayed.peekKey();
  }

  /** Invocations waiting (not in flight), by key class. */
  waiting(): { exclusive: number; parallel: number } {
    let exclusive = 0;
    let parallel = 0;
    for (const [id, slot] of this.slots) {
      if (this.inFlight.has(id)) continue;
      if (slot.inv.exclusive) exclusive++;
      else parallel++;
    }
    return { exclusive, parallel };
  }

  countByStatus(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const slot of this.slots.values()) {
      const status = this.inFlight.has(slot.inv.id) ? 'running' : slot.inv.status;
      counts.set(status, (counts.get(status) ?? 0) + 1);
    }
    return counts;
  }

  private eligible(inv: OpenInvocation, now: number): boolean {
    return mayStart(
      inv,
      inv.exclusive ? this.keyQueues.get(queueKey(inv))?.[0]?.id : undefined,
      now,
    );
  }

  private enqueue(slot: Slot): void {
    const inv = slot.inv;
    if (slot.queued !== null || this.inFlight.has(inv.id) || inv.status === 'paused') return;
    // Suspended until something arrives for it: a `wake` control message brings it back.
    if (inv.dueAt === Infinity) return;
    if (inv.exclusive && this.keyQueues.get(queueKey(inv))?.[0]?.id !== inv.id) return;
    if (inv.dueAt > this.now()) {
      slot.queued = 'delayed';
      this.delayed.push(inv.dueAt, inv.id);
    } else {
      slot.queued = 'ready';
      this.ready.push(inv.id);
    }
  }

  private addToKeyQueue(inv: OpenInvocation): void {
    const k = queueKey(inv);
    const queue = this.keyQueues.get(k);
    if (!queue) {
      this.keyQueues.set(k, [inv]);
      return;
    }
    // Usually appended at the end: commands of a key arrive in order.
    let i = queue.length;
    while (i > 0 && queue[i - 1].seq > inv.seq) i--;
    queue.splice(i, 0, inv);
    if (i === 0 && queue.length > 1) {
      // A new head: the old head waits again (it cannot be running, or its seq would be lower).
      const old = this.slots.get(queue[1].id);
      if (old && old.queued !== null) old.queued = null;
    }
  }
}

function queueKey(inv: OpenInvocation): string {
  return keyOf(inv.service, inv.key);
}

/** A binary min-heap of values by numeric key. */
class MinHeap<T> {
  private readonly keys: number[] = [];
  private readonly values: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  peekKey(): number | undefined {
    return this.keys[0];
  }

  push(key: number, value: T): void {
    this.keys.push(key);
    this.values.push(value);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent] <= this.keys[i]) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    if (this.keys.length === 0) return undefined;
    const top = this.values[0];
    const lastKey = this.keys.pop()!;
    const lastValue = this.values.pop()!;
    if (this.keys.length > 0) {
      this.keys[0] = lastKey;
      this.values[0] = lastValue;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.keys.length && this.keys[l] < this.keys[m]) m = l;
        if (r < this.keys.length && this.keys[r] < this.keys[m]) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.values[a], this.values[b]] = [this.values[b], this.values[a]];
  }
}
