/**
 * Form bodies as browsers send them, for the seed endpoints: URL-encoded
 * (`<form>`, `URLSearchParams`) and `multipart/form-data` (`FormData`), text
 * fields only. Small on purpose: the seed forms carry a few short fields, and
 * every body is bounded by the route's body limit before it gets here.
 */

/** Form fields by name; a repeated name keeps its first value (as Go's `FormValue`). */
export type FormFields = ReadonlyMap<string, string>;

/** A body that is not the form it claims to be. */
export class FormBodyError extends Error {
  override readonly name = 'FormBodyError';
}

/** Most parts (or fields) read from one body. */
export const MAX_FORM_FIELDS = 32;

/** Parses an `application/x-www-form-urlencoded` body. */
export function parseUrlEncoded(body: string): FormFields {
  const fields = new Map<string, string>();
  let count = 0;
  for (const [name, value] of new URLSearchParams(body)) {
    if (++count > MAX_FORM_FIELDS) throw new FormBodyError(`more than ${MAX_FORM_FIELDS} form fields`);
    if (!fields.has(name)) fields.set(name, value);
  }
  return fields;
}

/** The boundary parameter of a `multipart/form-data` content type (RFC 7578, RFC 2046 §5.1.1). */
export function multipartBoundary(contentType: string | undefined): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new FormBodyError('multipart body without a boundary');
  return boundary;
}

/**
 * Parses a `multipart/form-data` body: every part with a
 * `Content-Disposition: form-data; name="…"` header and no `filename` is a
 * text field, decoded as UTF-8. File parts are skipped.
 */
export function parseMultipart(body: Buffer, boundary: string): FormFields {
  // Latin-1 maps every byte to one character and back, so offsets found in
  // the text are byte offsets and field values can be re-read as UTF-8.
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const fields = new Map<string, string>();
  let position = text.indexOf(delimiter);
  if (position === -1) throw new FormBodyError('multipart body without its boundary');
  position += delimiter.length;
  for (let parts = 0; ; parts++) {
    if (text.startsWith('--', position)) return fields;
    if (parts >= MAX_FORM_FIELDS) throw new FormBodyError(`more than ${MAX_FORM_FIELDS} form parts`);
    const headersStart = skipLineBreak(text, position);
    const headersEnd = text.indexOf('\r\n\r\n', headersStart);
    if (headersEnd === -1) throw new FormBodyError('multipart part without the end of its headers');
    const contentStart = headersEnd + 4;
    const next = text.indexOf(`\r\n${delimiter}`, contentStart);
    if (next === -1) throw new FormBodyError('multipart part without a closing boundary');
    const field = fieldName(text.slice(headersStart, headersEnd));
    if (field !== undefined && !fields.has(field)) {
      fields.set(field, Buffer.from(text.slice(contentStart, next), 'latin1').toString('utf8'));
    }
    position = next + 2 + delimiter.length;
  }
}

function skipLineBreak(text: string, position: number): number {
  if (text.startsWith('\r\n', position)) return position + 2;
  throw new FormBodyError('multipart boundary not followed by a line break');
}

/** The field name of a part's headers; undefined for file parts and parts that are not form data. */
function fieldName(headers: string): string | undefined {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const value = line.slice(colon + 1);
    if (!/^\s*form-data\s*(;|$)/i.test(value)) return undefined;
    if (/;\s*filename\*?=/i.test(value)) return undefined;
    const name = /;\s*name="((?:[^"\\]|\\.)*)"/i.exec(value) ?? /;\s*name=([^\s;"]+)/i.exec(value);
    if (!name?.[1]) return undefined;
    // Names are UTF-8 like values; browsers escape a quote as %22 (and older ones as \").
    return Buffer.from(name[1].replace(/\\(.)/g, '$1'), 'latin1').toString('utf8').replace(/%22/g, '"');
  }
  return undefined;
}
