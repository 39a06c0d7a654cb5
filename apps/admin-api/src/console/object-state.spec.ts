import { parseModifyState, stateVersion } from './object-state';

const entry = (name: string, value: string) => ({
  name: Buffer.from(name),
  value: Buffer.from(value),
});

describe("stateVersion: Restate's state version", () => {
  // The vectors of Restate's own tests of StateMutationVersion.
  it('matches Restate for one entry, several in any order, and none', () => {
    expect(stateVersion([entry('name', 'bob')])).toBe(
      'tDqA04Lj3_qJ-PgNPTecXDGZgpwy6jm2Ni2BYqJIthM',
    );
    expect(stateVersion([entry('b', 'bbb'), entry('a', 'aaa')])).toBe(
      'RVM17P6x18Wp-JnzQ01BzmqCvhAunTOQI_az6Px3Zyk',
    );
    expect(stateVersion([])).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });
});

describe('parseModifyState', () => {
  it("reads Restate's body", () => {
    const parsed = parseModifyState({
      object_key: 'k',
      version: 'v',
      new_state: { a: [104, 105] },
    });
    expect(parsed.key).toBe('k');
    expect(parsed.version).toBe('v');
    expect(parsed.state.get('a')?.toString()).toBe('hi');
  });

  it('names what is wrong', () => {
    expect(() => parseModifyState({ new_state: {} })).toThrow('object_key must be a string');
    expect(() => parseModifyState({ object_key: 'k', new_state: { a: [256] } })).toThrow(
      'new_state.a must be an array of bytes',
    );
    expect(() => parseModifyState({ object_key: 'k', new_state: {}, extra: 1 })).toThrow(
      'property extra should not exist',
    );
  });
});
