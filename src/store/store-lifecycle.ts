/**
 * The open/closed life every {@link Store} implementation shares: calls
 * before `open` reject as "not open", calls after `close` as "closed",
 * `open` after `close` rejects, and both `open` and `close` are idempotent.
 */
export class StoreLifecycle {
  private state: 'new' | 'open' | 'closed' = 'new';

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Whether `open` has storage to open (false when already open). @throws Error when closed. */
  beginOpen(): boolean {
    if (this.state === 'closed') throw new Error('store is closed');
    return this.state === 'new';
  }

  /** Records that `open` succeeded. */
  opened(): void {
    this.state = 'open';
  }

  /** @throws Error unless the store is open. */
  assertOpen(): void {
    if (this.state === 'new') throw new Error('store is not open: call open() first');
    if (this.state === 'closed') throw new Error('store is closed');
  }

  /** Marks the store closed; true when it was open, so its storage is to be released now. */
  close(): boolean {
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    return wasOpen;
  }
}
