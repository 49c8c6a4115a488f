/**
 * Reading server API request bodies with the type rules of Centrifugo's
 * JSON decoding (Go `encoding/json` into the `api.proto` messages):
 * - a field of the wrong JSON type makes the whole request malformed
 *   (HTTP 400), before anything is done;
 * - unknown fields are ignored;
 * - `null` reads as the field's zero value (`""`, `0`, `false`, empty list),
 *   except for JSON payload fields (`data`, `info`), where it is the value
 *   `null`;
 * - a missing field reads as the zero value too; whether an empty value is
 *   acceptable is the method's decision (a 107 error in the response body).
 */

/** The request cannot be decoded: HTTP 400. */
export class MalformedRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedRequest';
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/** Typed access to one JSON object of a request. Every getter throws {@link MalformedRequest} on a wrong type. */
export class Fields {
  private constructor(
    private readonly values: Record<string, unknown>,
    /** Where this object sits in the request, for messages (`""` at the top). */
    private readonly path: string,
  ) {}

  /** The top-level body: an object, or `null` (read as an empty object). */
  static of(body: unknown, path = ''): Fields {
    if (body === null) return new Fields({}, path);
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new MalformedRequest(path === '' ? 'request body must be a JSON object' : `${path} must be an object`);
    }
    return new Fields(body as Record<string, unknown>, path);
  }

  private name(field: string): string {
    return this.path === '' ? field : `${this.path}.${field}`;
  }

  private get(field: string): unknown {
    return Object.hasOwn(this.values, field) ? this.values[field] : undefined;
  }

  string(field: string): string {
    const value = this.get(field);
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string') throw new MalformedRequest(`${this.name(field)} must be a string`);
    return value;
  }

  boolean(field: string): boolean {
    const value = this.get(field);
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') throw new MalformedRequest(`${this.name(field)} must be a boolean`);
    return value;
  }

  /** A 32-bit signed integer. */
  int32(field: string): number {
    return this.integer(field, INT32_MIN, INT32_MAX);
  }

  /** A 32-bit unsigned integer. */
  uint32(field: string): number {
    return this.integer(field, 0, UINT32_MAX);
  }

  /** A 64-bit signed integer (within JavaScript's safe range). */
  int64(field: string): number {
    return this.integer(field, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  /** A 64-bit unsigned integer (within JavaScript's safe range). */
  uint64(field: string): number {
    return this.integer(field, 0, Number.MAX_SAFE_INTEGER);
  }

  private integer(field: string, min: number, max: number): number {
    const value = this.get(field);
    if (value === undefined || value === null) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new MalformedRequest(`${this.name(field)} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  /** A JSON payload, as given (`null` included); undefined when absent. */
  json(field: string): unknown {
    return this.get(field);
  }

  /** A list of strings. */
  strings(field: string): string[] {
    const value = this.get(field);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new MalformedRequest(`${this.name(field)} must be a list of strings`);
    return value.map((item, i) => {
      // Go decodes a null element of a []string as "".
      if (item === null) return '';
      if (typeof item !== 'string') throw new MalformedRequest(`${this.name(field)}[${i}] must be a string`);
      return item;
    });
  }

  /** A map of strings to strings; undefined when absent or empty. */
  stringMap(field: string): Record<string, string> | undefined {
    const value = this.get(field);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw new MalformedRequest(`${this.name(field)} must be an object of strings`);
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === null) continue;
      if (typeof item !== 'string') throw new MalformedRequest(`${this.name(field)}.${key} must be a string`);
      out[key] = item;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  /** A nested object; undefined when absent or null. */
  object(field: string): Fields | undefined {
    const value = this.get(field);
    if (value === undefined || value === null) return undefined;
    return Fields.of(value, this.name(field));
  }

  /** A list of objects. */
  objects(field: string): (Fields | undefined)[] {
    const value = this.get(field);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new MalformedRequest(`${this.name(field)} must be a list of objects`);
    return value.map((item, i) => (item === null ? undefined : Fields.of(item, `${this.name(field)}[${i}]`)));
  }

  /** The names of the fields present (not `null`), in the order given. */
  present(): string[] {
    return Object.keys(this.values).filter((key) => this.values[key] !== null && this.values[key] !== undefined);
  }
}
