import type { RawData } from 'ws';

/** The text of a WebSocket message as `ws` hands it over (one Buffer, fragments, or an ArrayBuffer). */
export function rawDataText(data: RawData): string {
  return rawDataBytes(data).toString('utf8');
}

/** The bytes of a WebSocket message as `ws` hands it over, without a copy when it is one Buffer. */
export function rawDataBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
