// `npm run restate:keygen -- [file]`: makes the Ed25519 key pair Tributary signs requests to
// Restate SDK deployments with (invoker.request-identity-private-key-pem-file), as
// `openssl genpkey -algorithm ed25519 -out <file>` would, and prints the `publickeyv1_…` string to
// give the SDK (`identityKeys` / `withIdentityV1`). The private key goes to `file` (default
// request-identity.pem), readable by its owner only. An existing file is never overwritten: its
// public key is printed instead.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  RequestIdentity,
  RequestIdentityKeyError,
} from '../libs/shared/src/restate/request-identity';

export function keygen(file: string): { created: boolean; publicKeyV1: string } {
  if (existsSync(file)) {
    return { created: false, publicKeyV1: RequestIdentity.fromPemFile(file).publicKeyV1() };
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  return { created: true, publicKeyV1: RequestIdentity.fromPemFile(file).publicKeyV1() };
}

function main(argv: string[]): number {
  // npm runs scripts from the package root; INIT_CWD is where `npm run` was typed.
  const file = resolve(process.env.INIT_CWD ?? process.cwd(), argv[0] ?? 'request-identity.pem');
  try {
    const { created, publicKeyV1 } = keygen(file);
    process.stderr.write(
      created
        ? `wrote the private key to ${file}; configure it as invoker.request-identity-private-key-pem-file and give the endpoints its public key:\n`
        : `${file} exists and was left as it is; its public key:\n`,
    );
    process.stdout.write(`${publicKeyV1}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof RequestIdentityKeyError)) throw e;
    process.stderr.write(`restate:keygen: ${e.message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
