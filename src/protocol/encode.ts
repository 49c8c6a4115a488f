/**
 * JSON text of publications. A publication keeps its payload as JSON text,
 * so its JSON is assembled by concatenation, without parsing the payload
 * again; the JSON codec and the server API build on these.
 */
import type { SentPublication } from './messages.js';

/**
 * A publication's `data` as JSON text: the payload itself, or in a delta
 * subscription a JSON string holding the payload's text or the fossil patch
 * (valid UTF-8: see `Codec.carriesPatch`).
 */
function dataJson(publication: SentPublication): string {
  const form = publication.deltaForm;
  if (form === undefined) return publication.data;
  return JSON.stringify(form.kind === 'full' ? publication.data : form.patch.toString('utf8'));
}

/** The `pub` object of a push or of a subscribe/history result, as JSON text. */
export function encodePublication(publication: SentPublication): string {
  let out = `{"data":${dataJson(publication)}`;
  if (publication.info) out += `,"info":${JSON.stringify(publication.info)}`;
  if (publication.offset) out += `,"offset":${publication.offset}`;
  if (publication.tags) out += `,"tags":${JSON.stringify(publication.tags)}`;
  if (publication.deltaForm?.kind === 'patch') out += ',"delta":true';
  return out + '}';
}

/** A list of publications as a JSON array text. */
export function encodePublications(publications: readonly SentPublication[]): string {
  return `[${publications.map(encodePublication).join(',')}]`;
}

/**
 * A JSON value that may contain pre-encoded fragments. `JSON.stringify` cannot
 * splice raw JSON, so results that carry publications are built with this.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Like JSON.stringify for plain objects, but copies {@link RawJson} values verbatim. */
export function encodeWithRaw(value: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const encoded = item instanceof RawJson ? item.text : JSON.stringify(item);
    parts.push(`${JSON.stringify(key)}:${encoded}`);
  }
  return `{${parts.join(',')}}`;
}

