/**
 * A short name for the device a session was signed in from, for the
 * person's list of devices ("Firefox on Linux"). Read from the User-Agent,
 * which the client chooses: it is a label for its owner, never trusted.
 */

/** Longest device name kept. */
export const MAX_DEVICE_LENGTH = 80;

const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\//, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChrom(?:e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bSafari\//, 'Safari'],
  [/\bnode\b|\bundici\b/i, 'Node.js'],
  [/\bcurl\//, 'curl'],
];

const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bLinux\b/, 'Linux'],
];

/** "Browser on System", one of them, or the User-Agent itself (cleaned and shortened) when neither is known. */
export function deviceName(userAgent: string | undefined): string {
  const agent = (userAgent ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  if (agent === '') return 'Unknown device';
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? [...agent].slice(0, MAX_DEVICE_LENGTH).join('');
}
