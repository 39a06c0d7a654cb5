import { canonicalJson } from './deployment.service';

describe('canonicalJson', () => {
  it('ignores object key order (jsonb does not keep it) but not array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }),
    );
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 1, b: 2 }));
  });
});

describe('maskHeaders', () => {
  it('hides credentials in additional headers and keeps the rest', () => {
    const { maskHeaders } =
      jest.requireActual<typeof import('./deployment.service')>('./deployment.service');
    expect(
      maskHeaders({
        Authorization: 'Bearer abc',
        'x-api-key': 'k',
        'x-tenant': 'acme',
        Cookie: 'c',
      }),
    ).toEqual({ Authorization: '***', 'x-api-key': '***', 'x-tenant': 'acme', Cookie: '***' });
  });
});
