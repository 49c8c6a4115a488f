/**
 * `work`'s outcome, or a rejection with `timeoutError()` once `ms` passed
 * without one. The work itself goes on unobserved (a late rejection of it is
 * swallowed); the timer is cleared as soon as either settles.
 */
export function settleWithin<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
