/**
 * The signed-in user's own account: profile, password, devices, claiming a
 * guest identity. Answers that carry a new connection token (a changed
 * profile or username) reconnect with it, so other people see the change.
 */
import { api } from '../lib/api';
import type { DeviceSession, ProfileUpdate, SignInResult } from '../protocol';
import { state as chatState } from './chat/state';
import { renewConnection } from './useRealtime';
import { useSession } from './useSession';

const session = useSession();

function applied(result: SignInResult): void {
  session.adopt(result);
  if (chatState.me) chatState.me = { ...result.user };
  renewConnection(result.token);
}

/** Saves display name, colour and Gravatar email ("" removes the picture). */
async function saveProfile(update: ProfileUpdate): Promise<void> {
  applied(await api.updateProfile(update));
}

/** Turns the signed-in guest into an account with the same user id. */
async function claimIdentity(username: string, password: string): Promise<void> {
  applied(await session.claim(username, password));
}

/** Changes the password; the server signs out the account's other devices. */
async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await api.changePassword({ currentPassword, newPassword });
}

async function listDevices(): Promise<DeviceSession[]> {
  const { sessions } = await api.sessions();
  // This device first, then the most recently used.
  return [...sessions].sort((a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt - a.lastUsedAt);
}

async function signOutDevice(id: string): Promise<void> {
  await api.endSession(id);
}

export function useAccount() {
  return { saveProfile, claimIdentity, changePassword, listDevices, signOutDevice };
}
