/**
 * The key the server signs its access tokens with: read from AUTH_SIGNING_KEY_FILE when given (so
 * that several server processes share it), otherwise generated on first start and kept in the data
 * directory, readable by the owner only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';

export const GENERATED_KEY_FILE = 'auth-signing-key.jwk.json';
/**
 * Ed25519: generated in ~1 ms (RSA-3072 took ~280 ms here, at every first start of a test server),
 * verified in ~150 us (ES384 ~700 us); and each token is verified once, then cached.
 */
const GENERATED_ALG = 'EdDSA';

export interface SigningKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

function algOf(jwk: JWK): string {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === 'RSA') return 'RS384';
  if (jwk.kty === 'EC') return jwk.crv === 'P-256' ? 'ES256' : jwk.crv === 'P-521' ? 'ES512' : 'ES384';
  if (jwk.kty === 'OKP') return 'EdDSA';
  throw new Error(`The signing key's type ${jwk.kty} is not supported`);
}

async function fromJwk(jwk: JWK): Promise<SigningKey> {
  if (!jwk.d) throw new Error('The signing key file holds no private key');
  const alg = algOf(jwk);
  const privateKey = (await importJWK({ ...jwk, alg }, alg)) as CryptoKey;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  const publicKey = (await importJWK({ ...publicJwk, alg }, alg)) as CryptoKey;
  return { alg, kid: jwk.kid ?? (await calculateJwkThumbprint(publicJwk)), privateKey, publicKey };
}

async function fromFile(file: string): Promise<SigningKey> {
  const text = fs.readFileSync(file, 'utf8');
  if (text.includes('-----BEGIN')) {
    // A PEM key: import it once to learn its type, then continue as a JWK.
    for (const alg of ['RS384', 'ES384', 'ES256', 'EdDSA']) {
      try {
        const key = await importPKCS8(text, alg, { extractable: true });
        return fromJwk({ ...(await exportJWK(key)), alg });
      } catch {
        // Not this algorithm's key type; try the next.
      }
    }
    throw new Error(`${file} is not a PKCS#8 RSA, EC or Ed25519 private key`);
  }
  return fromJwk(JSON.parse(text) as JWK);
}

export async function loadSigningKey(dataDir: string, file?: string): Promise<SigningKey> {
  if (file) return fromFile(file);
  const generated = path.join(dataDir, GENERATED_KEY_FILE);
  if (fs.existsSync(generated)) return fromFile(generated);
  const { privateKey } = await generateKeyPair(GENERATED_ALG, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: GENERATED_ALG };
  jwk.kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
  fs.mkdirSync(dataDir, { recursive: true });
  // Written under a temporary name first: a crash mid-write must not leave a half key behind.
  const temporary = `${generated}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(jwk), { mode: 0o600 });
  fs.renameSync(temporary, generated);
  return fromJwk(jwk);
}
