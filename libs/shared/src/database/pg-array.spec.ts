import { pgArray } from './pg-array';

describe('pgArray', () => {
  it('writes strings, numbers, booleans and nulls as an array literal', () => {
    expect(pgArray(['a', 'b c', '', 'NULL', null])).toBe('{"a","b c","","NULL",null}');
    expect(pgArray([1, -2, 3.5])).toBe('{1,-2,3.5}');
    expect(pgArray([true, false, null])).toBe('{true,false,null}');
    expect(pgArray([])).toBe('{}');
  });

  it('keeps the escapes the two formats share: quotes and backslashes', () => {
    expect(pgArray(['say "hi"', 'C:\\dir', '{"k":"v"}'])).toBe(
      '{"say \\"hi\\"","C:\\\\dir","{\\"k\\":\\"v\\"}"}',
    );
  });

  it('leaves to pg what JSON would escape otherwise (the literal would misread it)', () => {
    for (const odd of ['line\nbreak', 'tab\t', '\u0001', '\ud800 lone', 'back\\\nslash']) {
      const values = ['x', odd];
      expect(pgArray(values)).toBe(values);
    }
  });
});
