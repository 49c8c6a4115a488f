/**
 * Public keys given in configuration (`tokenPublicKey`): PEM text, or the
 * path of a file holding it, with one or more keys. Each key's type decides
 * the algorithms it verifies, never the token's header: an RSA key verifies
 * RS and PS tokens, a P-256 key ES256 tokens, and so on, so no token can
 * make a public key serve as an HMAC secret.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Most keys one `tokenPublicKey` may hold: a token is tried against each key of its algorithm. */
export const MAX_PUBLIC_KEYS = 16;
/** Smallest RSA key accepted, in bits (RFC 7518 §3.3). */
const MIN_RSA_BITS = 2048;
/** Largest key file read, in bytes: a handful of PEM keys is a few KiB. */
const MAX_KEY_FILE_BYTES = 256 * 1024;

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
const EC_ALGORITHMS: ReadonlyMap<string, string> = new Map([['prime256v1', 'ES256'], ['secp384r1', 'ES384'], ['secp521r1', 'ES512']]);
const ED25519_ALGORITHMS = ['EdDSA', 'Ed25519'] as const;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** A configured public key and what it verifies. */
export interface PublicKey {
  /** Algorithms this key verifies, decided by its type and size. */
  readonly algorithms: readonly string[];
  /** The key as an SPKI PEM, whatever form it was given in. */
  readonly spki: string;
  /** e.g. `RSA 2048-bit`, `EC P-256`, `Ed25519`: for logs. */
  readonly description: string;
}

/** A `tokenPublicKey` that cannot be used; the message is one line, without key material. */
export class PublicKeyError extends Error {
  override name = 'PublicKeyError';
}

/** Whether a `tokenPublicKey` value is PEM text (otherwise it is a file path). */
export function isPemText(value: string): boolean {
  return value.includes('-----BEGIN');
}

/**
 * Reads the keys of a `tokenPublicKey` value: PEM text, or the path of a
 * file holding PEM text. Literal `\n` sequences are taken as line breaks
 * when the text has none (keys pasted into one environment variable).
 *
 * Accepted: `PUBLIC KEY` (SPKI) blocks of RSA (at least 2048 bits), EC
 * (P-256, P-384, P-521) and Ed25519 keys, and `RSA PUBLIC KEY` (PKCS#1)
 * blocks; up to {@link MAX_PUBLIC_KEYS}.
 *
 * @throws PublicKeyError when the file cannot be read, a block is a private
 * key or a certificate, a key does not parse or is of another type, or
 * there is no key at all.
 */
export function readPublicKeys(value: string): PublicKey[] {
  const text = isPemText(value) ? value : readKeyFile(value);
  const pem = text.includes('\n') ? text : text.replaceAll('\\n', '\n');
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new PublicKeyError('holds no PEM public key (-----BEGIN PUBLIC KEY-----)');
  if (blocks.length > MAX_PUBLIC_KEYS) throw new PublicKeyError(`holds ${blocks.length} keys; at most ${MAX_PUBLIC_KEYS}`);
  return blocks.map(([block, label], index) => publicKeyOf(block, label ?? '', index + 1));
}

function readKeyFile(path: string): string {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    throw new PublicKeyError(`cannot read the key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  if (content.length > MAX_KEY_FILE_BYTES) throw new PublicKeyError(`key file ${path} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
  if (!isPemText(content.toString('utf8'))) throw new PublicKeyError(`key file ${path} holds no PEM public key`);
  return content.toString('utf8');
}

function publicKeyOf(block: string, label: string, position: number): PublicKey {
  const which = `key ${position}`;
  if (label.includes('PRIVATE')) throw new PublicKeyError(`${which} is a private key; give its public key (openssl pkey -pubout)`);
  if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') {
    throw new PublicKeyError(`${which} is a ${label} block, not a public key (for a certificate: openssl x509 -pubkey -noout)`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: block, format: 'pem' });
  } catch {
    throw new PublicKeyError(`${which} is not a valid PEM public key`);
  }
  const spki = key.export({ type: 'spki', format: 'pem' }).toString();
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new PublicKeyError(`${which} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits`);
      return { algorithms: RSA_ALGORITHMS, spki, description: `RSA ${bits}-bit` };
    }
    case 'ec': {
      const curve = details.namedCurve ?? '';
      const algorithm = EC_ALGORITHMS.get(curve);
      if (!algorithm) throw new PublicKeyError(`${which} is an EC key on ${curve || 'an unknown curve'}; use P-256, P-384 or P-521`);
      return { algorithms: [algorithm], spki, description: `EC ${curve}` };
    }
    case 'ed25519':
      return { algorithms: ED25519_ALGORITHMS, spki, description: 'Ed25519' };
    default:
      throw new PublicKeyError(`${which} is a ${key.asymmetricKeyType ?? 'unknown'} key; use RSA, EC (P-256, P-384, P-521) or Ed25519`);
  }
}
