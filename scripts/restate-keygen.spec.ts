import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestIdentity } from '../libs/shared/src/restate/request-identity';
import { keygen } from './restate-keygen';

describe('restate:keygen', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-keygen-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an Ed25519 PKCS#8 key only its owner can read, and gives its publickeyv1_', () => {
    const file = join(dir, 'identity.pem');
    const made = keygen(file);
    expect(made.created).toBe(true);
    expect(made.publicKeyV1).toMatch(/^publickeyv1_[1-9A-HJ-NP-Za-km-z]{43,44}$/);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(RequestIdentity.fromPemFile(file).publicKeyV1()).toBe(made.publicKeyV1);
  });

  it('leaves an existing file as it is and prints its public key', () => {
    const file = join(dir, 'kept.pem');
    const first = keygen(file);
    const before = readFileSync(file, 'utf8');
    expect(keygen(file)).toEqual({ created: false, publicKeyV1: first.publicKeyV1 });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
