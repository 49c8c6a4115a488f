/**
 * Usernames: what may be registered, and the key that decides whether two
 * usernames are "the same" (so nobody can register a look-alike of
 * someone else's name).
 */

/** Fewest characters (code points, after NFC) a username may have. */
export const USERNAME_MIN_LENGTH = 2;
/** Most characters (code points, after NFC) a username may have. */
export const USERNAME_MAX_LENGTH = 32;

/** A username accepted by {@link checkUsername}: the NFC form to store and show. */
export type UsernameCheck = { ok: true; username: string } | { ok: false; problem: string };

// Control, format (zero-width, bidi overrides, soft hyphen…), separators, private use, unassigned.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cn}\u115F\u1160\u3164\uFFA0\u034F\u17B4\u17B5\u180B-\u180F\uFE00-\uFE0F]/u;
const ALLOWED = /^[\p{L}\p{M}\p{Nd}._-]+$/u;
const PUNCTUATION = /[._-]/;

/**
 * Validates a username as typed: 2..32 characters (after NFC) of letters
 * (any script, with their combining marks), decimal digits, `_`, `.` and
 * `-`; it starts with a letter or digit and ends with a letter, digit or
 * mark; it holds no control or invisible character.
 */
export function checkUsername(input: string): UsernameCheck {
  if (typeof input !== 'string') return { ok: false, problem: 'username must be text' };
  if (input.length > USERNAME_MAX_LENGTH * 4) return { ok: false, problem: `username must be at most ${USERNAME_MAX_LENGTH} characters` };
  const username = input.normalize('NFC');
  if (INVISIBLE.test(username)) return { ok: false, problem: 'username must not contain spaces, control or invisible characters' };
  const chars = [...username];
  if (chars.length < USERNAME_MIN_LENGTH) return { ok: false, problem: `username must be at least ${USERNAME_MIN_LENGTH} characters` };
  if (chars.length > USERNAME_MAX_LENGTH) return { ok: false, problem: `username must be at most ${USERNAME_MAX_LENGTH} characters` };
  if (!ALLOWED.test(username)) return { ok: false, problem: 'username may contain only letters, digits, "_", "." and "-"' };
  if (PUNCTUATION.test(chars[0]!) || /^\p{M}/u.test(chars[0]!) || PUNCTUATION.test(chars[chars.length - 1]!)) {
    return { ok: false, problem: 'username must start with a letter or digit and end with a letter or digit' };
  }
  return { ok: true, username };
}

/**
 * Look-alikes of Latin letters, applied before case folding because the
 * lower and upper case of one letter can resemble different Latin letters
 * (Greek `Η` looks like `H`, `η` like `n`).
 */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  // Cyrillic capitals
  А: 'A', В: 'B', С: 'C', Е: 'E', Н: 'H', І: 'I', Ј: 'J', К: 'K', М: 'M', О: 'O', Р: 'P', Ѕ: 'S', Т: 'T', Х: 'X', У: 'Y', Ү: 'Y', Ԁ: 'D', Ԛ: 'Q', Ԝ: 'W', Ӏ: 'I',
  // Cyrillic small letters
  а: 'a', в: 'b', с: 'c', е: 'e', һ: 'h', і: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', ѕ: 's', т: 't', х: 'x', у: 'y', ү: 'y', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ь: 'b', п: 'n', г: 'r',
  // Greek capitals
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
  // Greek small letters
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  // Latin variants
  ı: 'i', ȷ: 'j', ɡ: 'g', ɑ: 'a', ꞵ: 'b', ø: 'o', Ø: 'O', đ: 'd', Đ: 'D', ħ: 'h', ł: 'l', Ł: 'L', ŧ: 't', ß: 'ss', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE',
};

/** Digits and letters that look alike once everything is lower case; `i`, `l` and `1` (and a capital `I`, now `i`) become one. */
const FOLDED_LOOK_ALIKES: Readonly<Record<string, string>> = { '0': 'o', '1': 'l', i: 'l', '5': 's' };
/** Letter pairs that read as one letter at a glance. */
const PAIRS: ReadonlyArray<readonly [RegExp, string]> = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
];

function mapChars(text: string, table: Readonly<Record<string, string>>): string {
  let out = '';
  for (const ch of text) out += table[ch] ?? ch;
  return out;
}

/**
 * The key under which a username is unique. Two usernames with one key
 * cannot both be registered. Steps, in order:
 * 1. NFKC, so compatibility forms (fullwidth `ａ`, ligature `ﬁ`, superscript
 *    `²`, mathematical `𝐚`) become their plain letters;
 * 2. decomposition and removal of every combining mark, so `é`, `ë`, `ё`
 *    and `e` + U+0301 become `e`/`е` (an accent is easy to miss);
 * 3. look-alikes mapped to Latin letters, case by case ({@link LOOK_ALIKES}):
 *    Cyrillic `а е о р с х і ѕ`, Greek `Α Ο ν ο…`, dotless `ı`, `ß` → `ss`…;
 * 4. case folding (upper then lower case, so `ẞ`/`ß` and final `ς` fold too);
 * 5. after folding, `0` → `o`, `5` → `s`, and `1`, `i`, `l` → `l`;
 * 6. `rn` → `m`, `vv` → `w`.
 * So `alice`, `Alice`, `ALICE`, `аlice` (Cyrillic а), `al1ce` and `aIice`
 * share the key `allce`. `_`, `.` and `-` are kept: `a.b` and `a_b` differ.
 * The key is for comparison only; it is never shown.
 */
export function usernameKey(username: string): string {
  const plain = username.normalize('NFKC').normalize('NFD').replace(/\p{M}/gu, '');
  const folded = mapChars(plain, LOOK_ALIKES).toUpperCase().toLowerCase().normalize('NFKC');
  let key = mapChars(folded, FOLDED_LOOK_ALIKES);
  for (const [pair, single] of PAIRS) key = key.replace(pair, single);
  return key;
}
