/**
 * Deep freezing, so that no part of the server can change configuration
 * another part has already read.
 */

/**
 * Freezes `value` and every object and array reachable from it, in place.
 * Children of an already frozen object are visited too, since a shallow
 * freeze elsewhere would otherwise leave them writable. `value` must not
 * contain cycles (configuration comes from JSON, which cannot).
 * @returns `value`, typed as given.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
