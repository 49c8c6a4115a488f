import { Errors } from '../protocol/errors.js';
import type { Fields } from './api-request.js';

/** A JSON payload of a request (`data`, `info`): the value and its JSON text. */
export interface Payload {
  value: unknown;
  text: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads a JSON payload field, or its base64 twin (`b64data`, `b64info`),
 * which wins when set, as in Centrifugo. Parley speaks JSON to clients, so
 * the base64 text must decode to JSON. Undefined when neither is given;
 * `null` is a payload.
 * @throws ProtocolError 107 for bad base64, or base64 that does not hold JSON.
 */
export function payloadOf(fields: Fields, field: string, b64Field: string): Payload | undefined {
  const b64 = fields.string(b64Field);
  if (b64 !== '') {
    if (!BASE64.test(b64) || b64.length % 4 !== 0) throw Errors.badRequest(`${b64Field} is not base64`);
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    } catch {
      throw Errors.badRequest(`${b64Field} must hold JSON: clients receive payloads as JSON`);
    }
    return { value, text: JSON.stringify(value) };
  }
  const value = fields.json(field);
  return value === undefined ? undefined : { value, text: JSON.stringify(value) };
}
