const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dayWithYearFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** `3:04 PM` (or the locale's equivalent). */
export function formatTime(ms: number): string {
  return timeFormat.format(ms);
}

/** The full date and time, for tooltips. */
export function formatFull(ms: number): string {
  return fullFormat.format(ms);
}

export function isSameDay(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
}

/** `Today`, `Yesterday`, or the date. */
export function dayLabel(ms: number, now = Date.now()): string {
  if (isSameDay(ms, now)) return 'Today';
  if (isSameDay(ms, now - 86_400_000)) return 'Yesterday';
  return new Date(ms).getFullYear() === new Date(now).getFullYear() ? dayFormat.format(ms) : dayWithYearFormat.format(ms);
}

/** Time today, otherwise a short date: for search results. */
export function formatWhen(ms: number, now = Date.now()): string {
  return isSameDay(ms, now) ? formatTime(ms) : `${shortDateFormat.format(ms)}, ${formatTime(ms)}`;
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];

/** "3 hours ago", "in 6 days", "now": for when sessions were used and invitations expire. */
export function formatRelative(ms: number, now = Date.now()): string {
  const diff = ms - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(diff) >= size) return relativeFormat.format(Math.round(diff / size), unit);
  }
  return relativeFormat.format(0, 'minute');
}
