/**
 * Random display names and colors for users who did not choose their own:
 * guests who leave the name blank, and users whose token carries no color.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';

/** Adjectives of {@link randomName}, as the Scaledrone chat tutorial lists them. */
export const NAME_ADJECTIVES: readonly string[] = Object.freeze([
  'autumn', 'hidden', 'bitter', 'misty', 'silent', 'empty', 'dry', 'dark', 'summer', 'icy', 'delicate', 'quiet', 'white',
  'cool', 'spring', 'winter', 'patient', 'twilight', 'dawn', 'crimson', 'wispy', 'weathered', 'blue', 'billowing',
  'broken', 'cold', 'damp', 'falling', 'frosty', 'green', 'long', 'late', 'lingering', 'bold', 'little', 'morning',
  'muddy', 'old', 'red', 'rough', 'still', 'small', 'sparkling', 'throbbing', 'shy', 'wandering', 'withered', 'wild',
  'black', 'young', 'holy', 'solitary', 'fragrant', 'aged', 'snowy', 'proud', 'floral', 'restless', 'divine',
  'polished', 'ancient', 'purple', 'lively', 'nameless',
]);

/**
 * Nouns of {@link randomName}, as the Scaledrone chat tutorial lists them
 * ("water" and "sun" appear twice there too, so they are a little likelier).
 */
export const NAME_NOUNS: readonly string[] = Object.freeze([
  'waterfall', 'river', 'breeze', 'moon', 'rain', 'wind', 'sea', 'morning', 'snow', 'lake', 'sunset', 'pine', 'shadow',
  'leaf', 'dawn', 'glitter', 'forest', 'hill', 'cloud', 'meadow', 'sun', 'glade', 'bird', 'brook', 'butterfly', 'bush',
  'dew', 'dust', 'field', 'fire', 'flower', 'firefly', 'feather', 'grass', 'haze', 'mountain', 'night', 'pond',
  'darkness', 'snowflake', 'silence', 'sound', 'sky', 'shape', 'surf', 'thunder', 'violet', 'water', 'wildflower',
  'wave', 'water', 'resonance', 'sun', 'wood', 'dream', 'cherry', 'tree', 'fog', 'frost', 'voice', 'paper', 'frog',
  'smoke', 'star',
]);

/**
 * Colors for names and avatars. Unlike a fully random hex color, each of
 * these has a contrast ratio of at least 3.4:1 against both a white and a
 * near-black (`#1a1b1e`) background, so a name stays readable in light and
 * dark themes.
 */
export const USER_COLORS: readonly string[] = Object.freeze([
  '#e03131', // red
  '#d6336c', // pink
  '#ae3ec9', // grape
  '#be4bdb', // orchid
  '#7950f2', // violet
  '#4263eb', // indigo
  '#1c7ed6', // blue
  '#0c8599', // cyan
  '#099268', // teal
  '#2b8a3e', // green
  '#5c940d', // lime
  '#8a7f00', // olive
  '#a9711a', // amber
  '#e8590c', // orange
  '#8d6e63', // brown
  '#778899', // slate
]);

function pick<T>(list: readonly T[]): T {
  return list[randomInt(list.length)] as T;
}

/** A random `adjective_noun` name such as `misty_river`, as in the Scaledrone tutorial. */
export function randomName(): string {
  return `${pick(NAME_ADJECTIVES)}_${pick(NAME_NOUNS)}`;
}

/** A random color from {@link USER_COLORS}. */
export function randomColor(): string {
  return pick(USER_COLORS);
}

/**
 * The color of {@link USER_COLORS} that belongs to a user id: always the
 * same for the same id, so a user without a chosen color keeps theirs
 * across connections and servers.
 */
export function colorForUser(userId: string): string {
  const digest = createHash('sha256').update(userId).digest();
  return USER_COLORS[digest.readUInt32BE(0) % USER_COLORS.length] as string;
}

/**
 * A fresh user id: `prefix` (`g_` for guests, `u_` for accounts) and 16
 * base-36 characters from 80 random bits.
 */
export function randomUserId(prefix: 'g_' | 'u_'): string {
  return prefix + BigInt(`0x${randomBytes(10).toString('hex')}`).toString(36).padStart(16, '0');
}
