/**
 * Gravatar URLs. `d=404` makes Gravatar answer 404 for an address without an
 * image, so the app falls back to initials instead of showing a generic picture.
 */
export function gravatarUrl(hash: string, size = 80): string {
  return `https://www.gravatar.com/avatar/${encodeURIComponent(hash)}?s=${size}&d=404`;
}

const FAILED_KEY = 'parley.gravatarMisses';
const failed = new Set<string>(readFailed());

function readFailed(): string[] {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(FAILED_KEY) ?? '[]');
    return Array.isArray(stored) ? stored.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** Whether loading this hash's image already failed in this tab (no image, or offline): then initials are shown at once. */
export function gravatarFailed(hash: string): boolean {
  return failed.has(hash);
}

export function markGravatarFailed(hash: string): void {
  failed.add(hash);
  try {
    sessionStorage.setItem(FAILED_KEY, JSON.stringify([...failed].slice(-500)));
  } catch {
    // Not remembered across reloads; harmless.
  }
}
