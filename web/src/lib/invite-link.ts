/** Invite links: `<origin>/?invite=CODE` (made by an admin, `POST /app/admin/invites`). */

const PARAM = 'invite';

/** The invite code in the page's address, or ''. */
export function inviteCode(): string {
  return new URLSearchParams(location.search).get(PARAM)?.trim() ?? '';
}

/** Takes the code out of the address (after it was used, or when it is of no use), keeping the rest of it. */
export function forgetInviteCode(): void {
  const url = new URL(location.href);
  if (!url.searchParams.has(PARAM)) return;
  url.searchParams.delete(PARAM);
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
}
