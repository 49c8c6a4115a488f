/**
 * Reading what another service answered to one of the server's own HTTP
 * requests (`fetch`): the JWKS endpoint, the backend proxy. Both must never
 * let a misbehaving service make the server hold an unbounded body, nor put
 * more than a short cause of a failure in a log line.
 */

/** The body was longer than the caller allows; nothing past the limit was read. */
export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`answered more than ${maxBytes} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/**
 * The response body as UTF-8 text, reading at most `maxBytes`: a declared
 * `Content-Length` over it is refused before reading, and a body that grows
 * past it is cancelled there.
 * @throws BodyTooLarge
 */
export async function readBoundedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(maxBytes);
  }
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A short cause of a failed `fetch` for the log (a connection refused, a DNS failure): fetch puts it in `cause`. */
export function fetchFailureCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message.slice(0, 120);
  return error instanceof Error ? error.message.slice(0, 120) : 'unknown error';
}
