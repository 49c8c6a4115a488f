import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/**
 * Writes to many sockets in one call into native code (`native/socket_write.c`):
 * one `send(2)` per socket, without Node's per-write stream machinery.
 *
 * Guarantees:
 * - Never blocks and never throws for a socket's own failure: `results[i]`
 *   is the number of bytes of `buffers[i]` written to `fds[i]` (0 when the
 *   socket's kernel buffer is full), or a negative errno when the socket
 *   failed (closed by the peer, say).
 * - Writes nothing but the given bytes to the given descriptors, in order.
 * - Malformed arguments (a non-Buffer, a count beyond an array) throw a
 *   TypeError before anything is written.
 */
export interface DirectWriter {
  writeEach(fds: Int32Array, buffers: readonly Buffer[], count: number, results: Int32Array): void;
}

/** Where `npm run build:native` puts the addon, from `src/transport/` or `dist/transport/`. */
const ADDON_PATH = '../../native/build/Release/socket_write.node';

/** Why the native writer is not in use, when it is not (logged at start-up). */
export let directWriteUnavailableReason: string | undefined;

function load(): DirectWriter | undefined {
  if (process.platform === 'win32') {
    directWriteUnavailableReason = 'not supported on Windows';
    return undefined;
  }
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as DirectWriter;
  } catch (error) {
    directWriteUnavailableReason = `native addon not built (npm run build:native): ${(error as Error).message.split('\n')[0]}`;
    return undefined;
  }
}

/** The native writer, or undefined when the addon is not built (sockets are then written through their streams). */
export const directWriter: DirectWriter | undefined = load();

/**
 * The descriptor of a plain TCP socket, or -1 (TLS sockets: their bytes must
 * be encrypted by Node). It stays the socket's while the socket is open;
 * read it once and check {@link canWriteDirectly} before every use.
 */
export function socketDescriptor(socket: Socket): number {
  if ((socket as { encrypted?: boolean }).encrypted) return -1;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/**
 * Whether bytes may be written to the socket's descriptor right now: it is
 * open (once closed, its number may already belong to another file) and
 * Node has nothing queued for it, or direct bytes would overtake queued ones.
 */
export function canWriteDirectly(socket: Socket): boolean {
  return socket.writable && socket.writableLength === 0;
}
