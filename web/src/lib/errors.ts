/** A human-readable message from whatever an operation failed with (SDK errors are `{ code, message }`). */
export function errorMessage(error: unknown, fallback = 'Something went wrong. Please try again.'): string {
  if (typeof error === 'string' && error) return error;
  if (error && typeof error === 'object' && 'message' in error) {
    const message = (error as { message: unknown }).message;
    if (typeof message === 'string' && message) {
      const code = 'code' in error ? (error as { code: unknown }).code : undefined;
      // SDK-side codes (below 100) describe the transport, not the request.
      if (typeof code === 'number' && code < 100) return code === 1 ? 'The server did not answer in time. Please try again.' : 'Not connected right now. Please try again in a moment.';
      return message.charAt(0).toUpperCase() + message.slice(1);
    }
  }
  return fallback;
}

/** A random id for idempotent sends. */
export function nonce(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
