/** Parses `#rgb` or `#rrggbb`; other CSS colors give null. */
function parseHex(color: string): [number, number, number] | null {
  const hex = color.trim().replace(/^#/, '');
  if (/^[0-9a-f]{3}$/i.test(hex)) return [0, 1, 2].map((i) => parseInt(hex.charAt(i).repeat(2), 16)) as [number, number, number];
  if (/^[0-9a-f]{6}$/i.test(hex)) return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  return null;
}

function luminance([r, g, b]: [number, number, number]): number {
  const channel = (value: number) => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/**
 * Text color for initials on a user's color: white on anything dark or
 * saturated enough for bold text (contrast at least 3:1), near-black on light colors.
 */
export function textColorOn(background: string): string {
  const rgb = parseHex(background);
  if (!rgb) return '#ffffff';
  return 1.05 / (luminance(rgb) + 0.05) >= 3 ? '#ffffff' : '#111111';
}

/** A safe CSS color from a user's color (server data): hex only, otherwise a neutral grey. */
export function safeColor(color: string | undefined): string {
  return color && parseHex(color) ? color : '#6b7280';
}

/** Up to two initials from a display name (`misty_river` → `MR`). */
export function initials(name: string): string {
  const words = name.trim().split(/[\s_.-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0] ?? '?'];
  return letters
    .map((word) => Array.from(word ?? '')[0] ?? '')
    .join('')
    .toUpperCase() || '?';
}

/**
 * The server's palette for names and avatars (`USER_COLORS` in
 * `src/chat/names.ts`): each reads at 3.4:1 or better on both the light and
 * the dark theme.
 */
export const PROFILE_COLORS: readonly string[] = Object.freeze([
  '#e03131', '#d6336c', '#ae3ec9', '#be4bdb', '#7950f2', '#4263eb', '#1c7ed6', '#0c8599',
  '#099268', '#2b8a3e', '#5c940d', '#8a7f00', '#a9711a', '#e8590c', '#8d6e63', '#778899',
]);

function contrast(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** Whether a name in this colour stays readable (3:1) on both the white and the near-black theme. */
export function readableOnBothThemes(color: string): boolean {
  const rgb = parseHex(color);
  if (!rgb) return false;
  const l = luminance(rgb);
  return contrast(l, 1) >= 3 && contrast(l, luminance([0x1a, 0x1b, 0x1e])) >= 3;
}
