import { serde } from './serde';

describe('serde.json', () => {
  it('round-trips values as UTF-8 JSON', () => {
    const bytes = serde.json.serialize({ name: 'Zoë', n: [1, 2] });
    expect(Buffer.from(bytes).toString('utf8')).toBe('{"name":"Zoë","n":[1,2]}');
    expect(serde.json.deserialize(bytes)).toEqual({ name: 'Zoë', n: [1, 2] });
  });

  it('maps undefined to an empty body and back', () => {
    expect(serde.json.serialize(undefined)).toHaveLength(0);
    expect(serde.json.deserialize(new Uint8Array(0))).toBeUndefined();
  });

  it('rejects bytes that are not JSON or not UTF-8', () => {
    expect(() => void serde.json.deserialize(Buffer.from('{oops'))).toThrow(SyntaxError);
    expect(() => void serde.json.deserialize(Uint8Array.of(0x22, 0xff, 0x22))).toThrow();
  });

  it('declares application/json', () => {
    expect(serde.json.contentType).toBe('application/json');
  });
});

describe('serde.binary', () => {
  it('passes every byte value through unchanged', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(serde.binary.deserialize(serde.binary.serialize(all))).toEqual(all);
    expect(serde.binary.contentType).toBe('application/octet-stream');
  });
});
