import { StateTracker } from './state.tracker';

const bytes = (s: string) => Buffer.from(s);
const text = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : Buffer.from(b).toString();

describe('StateTracker', () => {
  const stored = () =>
    new Map([
      ['a', bytes('1')],
      ['b', bytes('2')],
    ]);

  it('reads stored values and reports no changes when untouched', () => {
    const state = new StateTracker(stored());
    expect(text(state.get('a'))).toBe('1');
    expect(state.get('zzz')).toBeUndefined();
    expect(state.hasChanges()).toBe(false);
    expect(state.keys()).toEqual(['a', 'b']);
  });

  it('reads its own writes', () => {
    const state = new StateTracker(stored());
    state.set('a', bytes('10'));
    state.set('c', bytes('3'));
    expect(text(state.get('a'))).toBe('10');
    expect(state.keys()).toEqual(['a', 'b', 'c']);
    expect(state.changes()).toEqual({
      set: { a: bytes('10').toString('base64'), c: bytes('3').toString('base64') },
      clear: [],
      clearAll: false,
    });
  });

  it('keeps a copy of what was set', () => {
    const state = new StateTracker(new Map());
    const buf = bytes('x');
    state.set('k', buf);
    buf[0] = 0x79;
    expect(text(state.get('k'))).toBe('x');
  });

  it('clear hides the stored value and cancels an earlier set', () => {
    const state = new StateTracker(stored());
    state.set('a', bytes('10'));
    state.clear('a');
    expect(state.get('a')).toBeUndefined();
    expect(state.keys()).toEqual(['b']);
    expect(state.changes()).toEqual({ set: {}, clear: ['a'], clearAll: false });
  });

  it('set after clear wins', () => {
    const state = new StateTracker(stored());
    state.clear('a');
    state.set('a', bytes('5'));
    expect(text(state.get('a'))).toBe('5');
    expect(state.changes()).toEqual({
      set: { a: bytes('5').toString('base64') },
      clear: [],
      clearAll: false,
    });
  });

  it('clearAll drops everything before it, and later sets survive it', () => {
    const state = new StateTracker(stored());
    state.set('c', bytes('3'));
    state.clear('b');
    state.clearAll();
    expect(state.keys()).toEqual([]);
    expect(state.get('a')).toBeUndefined();
    state.set('d', bytes('4'));
    state.clear('a');
    expect(state.keys()).toEqual(['d']);
    expect(state.changes()).toEqual({
      set: { d: bytes('4').toString('base64') },
      clear: [],
      clearAll: true,
    });
  });
});
