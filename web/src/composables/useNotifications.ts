import { reactive, readonly } from 'vue';
import type { ChatMessage, Conversation } from '../protocol';

const STORAGE_KEY = 'parley.notifications';
const supported = typeof window !== 'undefined' && 'Notification' in window;

const state = reactive({
  supported,
  /** The user asked for notifications (and the browser allowed them). */
  enabled: supported && Notification.permission === 'granted' && localStorage.getItem(STORAGE_KEY) === 'on',
  permission: (supported ? Notification.permission : 'denied') as NotificationPermission,
});

async function toggle(): Promise<void> {
  if (!supported) return;
  if (state.enabled) {
    state.enabled = false;
    localStorage.setItem(STORAGE_KEY, 'off');
    return;
  }
  const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
  state.permission = permission;
  state.enabled = permission === 'granted';
  localStorage.setItem(STORAGE_KEY, state.enabled ? 'on' : 'off');
}

/**
 * A desktop notification for a message from someone else, only while the tab
 * is hidden (when it is visible the message is already on screen or badged).
 */
function notifyMessage(conversation: Conversation, message: ChatMessage, open: (channel: string) => void): void {
  if (!state.enabled || !document.hidden || Notification.permission !== 'granted') return;
  const group = (conversation.peers?.length ?? 0) > 1;
  const title =
    conversation.kind === 'room'
      ? `${message.author.name} in #${conversation.title}`
      : group
        ? `${message.author.name} in your group with ${conversation.title}`
        : message.author.name;
  const body = message.text.length > 140 ? `${message.text.slice(0, 140)}…` : message.text;
  try {
    const notification = new Notification(title, { body, tag: conversation.channel, icon: '/favicon.svg' });
    notification.onclick = () => {
      window.focus();
      open(conversation.channel);
      notification.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker; nothing to do then.
  }
}

export function useNotifications() {
  return { state: readonly(state), toggle, notifyMessage };
}
