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
