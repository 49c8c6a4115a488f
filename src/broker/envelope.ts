import type { ClientInfo, Publication } from '../protocol/types.js';

/** One event as it travels between nodes. */
export type BrokerEvent =
  | { kind: 'publication'; publication: Publication }
  | { kind: 'join'; info: ClientInfo }
  | { kind: 'leave'; info: ClientInfo };

/**
 * The wire form: a one-key JSON object, `{"p":<publication>}`,
 * `{"j":<client info>}` or `{"l":<client info>}`. The publication's `data`
 * stays JSON text inside it, so a node forwards it without re-encoding.
 */
export function encodeEnvelope(event: BrokerEvent): string {
  if (event.kind === 'publication') return `{"p":${JSON.stringify(event.publication)}}`;
  return `{"${event.kind === 'join' ? 'j' : 'l'}":${JSON.stringify(event.info)}}`;
}

/** The event an envelope carries, or undefined when it is not a well-formed one. */
export function decodeEnvelope(text: string): BrokerEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  if ('p' in parsed) return isPublication(parsed.p) ? { kind: 'publication', publication: parsed.p } : undefined;
  if ('j' in parsed) return isClientInfo(parsed.j) ? { kind: 'join', info: parsed.j } : undefined;
  if ('l' in parsed) return isClientInfo(parsed.l) ? { kind: 'leave', info: parsed.l } : undefined;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isClientInfo(value: unknown): value is ClientInfo {
  return isObject(value) && typeof value.user === 'string' && typeof value.client === 'string';
}

function isPublication(value: unknown): value is Publication {
  // `data` is copied into client frames as is, so it must be JSON text.
  if (!isObject(value) || typeof value.data !== 'string' || !isJsonText(value.data)) return false;
  if (value.offset !== undefined && !(Number.isSafeInteger(value.offset) && (value.offset as number) > 0)) return false;
  if (value.epoch !== undefined && typeof value.epoch !== 'string') return false;
  if (value.offset !== undefined && value.epoch === undefined) return false;
  if (value.time !== undefined && typeof value.time !== 'number') return false;
  if (value.info !== undefined && !isClientInfo(value.info)) return false;
  if (value.tags !== undefined && !(isObject(value.tags) && Object.values(value.tags).every((tag) => typeof tag === 'string'))) return false;
  return true;
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
