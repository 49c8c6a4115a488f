/**
 * Centrifugo's convention for a JSON value in tokens and in proxy answers:
 * `name` holds it as JSON, or `b64name` holds it as base64, which carries
 * bytes; Parley's payloads are JSON, so those bytes must be UTF-8 JSON text.
 * One rule for every place that reads them.
 */

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The value of `name`, or of `b64name` decoded: a non-empty `b64name` wins
 * (as in Centrifugo); `null` is a JSON value like any other. Undefined when
 * neither is given.
 *
 * @param invalid makes the error thrown for a `b64name` that is not a
 * base64 string of UTF-8 JSON text (the caller's own error type).
 */
export function jsonOrBase64(fields: Record<string, unknown>, name: string, invalid: (message: string) => Error): { value: unknown } | undefined {
  const b64name = `b64${name}`;
  const b64 = fields[b64name];
  if (b64 !== undefined && b64 !== null && b64 !== '') {
    if (typeof b64 !== 'string' || !BASE64.test(b64)) throw invalid(`"${b64name}" must be a base64 string`);
    try {
      return { value: JSON.parse(utf8.decode(Buffer.from(b64, 'base64'))) };
    } catch {
      throw invalid(`"${b64name}" must be base64 of UTF-8 JSON text`);
    }
  }
  return Object.hasOwn(fields, name) ? { value: fields[name] } : undefined;
}
