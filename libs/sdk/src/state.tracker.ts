import { WireStateChanges } from './protocol';

/**
 * The state of one key as the handler sees it: the stored values overlaid with the changes made
 * so far. The changes go back to the invoker, which applies them in the order clearAll, clear,
 * set, so `changes()` keeps them consistent with that order.
 */
export class StateTracker {
  private readonly sets = new Map<string, Uint8Array>();
  private readonly clears = new Set<string>();
  private clearedAll = false;

  constructor(private readonly stored: ReadonlyMap<string, Uint8Array>) {}

  get(name: string): Uint8Array | undefined {
    const changed = this.sets.get(name);
    if (changed) return changed;
    if (this.clearedAll || this.clears.has(name)) return undefined;
    return this.stored.get(name);
  }

  set(name: string, value: Uint8Array): void {
    this.clears.delete(name);
    // A copy, so a caller reusing its buffer after set() cannot change what gets stored.
    this.sets.set(name, new Uint8Array(value));
  }

  clear(name: string): void {
    this.sets.delete(name);
    // After clearAll nothing stored is left to clear.
    if (!this.clearedAll) this.clears.add(name);
  }

  clearAll(): void {
    this.sets.clear();
    this.clears.clear();
    this.clearedAll = true;
  }

  keys(): string[] {
    const kept = this.clearedAll ? [] : [...this.stored.keys()].filter((k) => !this.clears.has(k));
    return [...new Set([...kept, ...this.sets.keys()])].sort();
  }

  hasChanges(): boolean {
    return this.clearedAll || this.sets.size > 0 || this.clears.size > 0;
  }

  changes(): WireStateChanges {
    const set = Object.fromEntries(
      [...this.sets].map(([k, v]) => [
        k,
        Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'),
      ]),
    );
    return { set, clear: [...this.clears], clearAll: this.clearedAll };
  }
}
