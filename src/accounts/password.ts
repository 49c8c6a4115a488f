/**
 * Password hashing with scrypt (memory-hard), a random salt per hash, and
 * the cost parameters stored beside it so they can be raised later without
 * invalidating existing hashes (see {@link needsRehash}).
 *
 * Stored form: `scrypt$N$r$p$<salt>$<hash>`, salt and hash in base64url.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Fewest characters (code points) a password may have. */
export const PASSWORD_MIN_LENGTH = 8;
/**
 * Most characters (code points) a password may have. Checked before any
 * hashing, so nobody can make the server hash megabytes.
 */
export const PASSWORD_MAX_LENGTH = 256;

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * Current cost. N = 2^14 with r = 8 uses 16 MiB per hash and takes a few
 * tens of milliseconds on a small server core: slow and memory-hungry
 * enough to make offline guessing costly, fast enough that sign-ins (which
 * are rate limited anyway) do not queue behind each other on libuv's
 * thread pool. Raising it makes {@link needsRehash} true for older hashes.
 */
const CURRENT: ScryptParams = { N: 2 ** 14, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Parameters above these are refused when read back, so a corrupt row cannot make one verification allocate gigabytes. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/**
 * Memory scrypt may use: its working set is 128·N·r bytes (plus 128·r·p);
 * Node refuses anything above `maxmem` (32 MiB by default), so it is set
 * from the parameters with room to spare instead of the fixed default.
 */
function maxmemFor({ N, r, p }: ScryptParams): number {
  return 2 * 128 * r * (N + p) + 1024 * 1024;
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: maxmemFor(params) };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, HASH_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Why a password cannot be used (a sentence for the user), or undefined when it can. */
export function passwordProblem(password: string): string | undefined {
  if (typeof password !== 'string') return 'password must be text';
  // Counting code points of a huge string would itself cost time: its UTF-16 length bounds them from above.
  if (password.length > PASSWORD_MAX_LENGTH * 2) return `password must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `password must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `password must be at most ${PASSWORD_MAX_LENGTH} characters`;
  return undefined;
}

/**
 * Hashes a password with a fresh random salt and the current parameters.
 * Equivalent Unicode spellings (NFKC) hash alike.
 * @throws RangeError when {@link passwordProblem} finds one (nothing is hashed).
 */
export async function hashPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new RangeError(problem);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, CURRENT);
  return ['scrypt', CURRENT.N, CURRENT.r, CURRENT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

interface ParsedHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^[1-9]\d{0,7}$/.test(s!) ? Number(s) : NaN)) as [number, number, number];
  // scrypt needs N to be a power of two above 1.
  if (!(N > 1 && N <= MAX_N && (N & (N - 1)) === 0) || !(r >= 1 && r <= MAX_R) || !(p >= 1 && p <= MAX_P)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < SALT_BYTES || hash.length < 16) return undefined;
  return { N, r, p, salt, hash };
}

/**
 * Whether `password` matches `stored` (a value made by {@link hashPassword}).
 * The comparison takes the same time wherever the first difference is. A
 * password outside the length bounds, or a stored value that is not a
 * well-formed hash, never matches; the former is refused before hashing.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed || passwordProblem(password)) return verifyAgainstNothing(password);
  const candidate = await derive(password, parsed.salt, parsed);
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

const NOTHING_SALT = randomBytes(SALT_BYTES);
const NOTHING_HASH = randomBytes(HASH_BYTES);

/**
 * Costs what {@link verifyPassword} costs against a current hash, and is
 * always false: for a sign-in with an unknown username (or a deactivated
 * account), so its refusal takes as long as a wrong password's and nobody
 * can tell which usernames exist by timing. A password outside the length
 * bounds is not hashed here either, just as in {@link verifyPassword}.
 */
export async function verifyAgainstNothing(password: string): Promise<false> {
  if (passwordProblem(password)) return false;
  const candidate = await derive(password, NOTHING_SALT, CURRENT);
  timingSafeEqual(candidate, NOTHING_HASH);
  return false;
}

/** Whether `stored` was made with other parameters than the current ones (or is not a hash at all): hash the password again after a successful sign-in. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.N !== CURRENT.N || parsed.r !== CURRENT.r || parsed.p !== CURRENT.p || parsed.hash.length !== HASH_BYTES;
}
