import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AccountStore } from '../accounts/account-store.js';
import type { UserDisconnectParts } from '../cluster/user-disconnect.js';
import type { Config } from '../config/types.js';
import type { AddressLimiters } from '../http/address-limit.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import { Errors } from '../protocol/errors.js';
import type { Publication } from '../protocol/types.js';
import { registerAppRoutes } from './app-routes.js';
import { AccountFacts } from './account-facts.js';
import { ChatChannels } from './chat-channels.js';
import { registerClientPublish } from './chat-publish.js';
import { registerChatRpc } from './chat-rpc.js';
import { ChatService } from './chat-service.js';
import type { ChatStore } from './chat-store.js';
import { ConversationService } from './conversation-service.js';
import { ModerationService } from './moderation-service.js';
import { AuditView } from './audit-view.js';
import type { Cluster } from '../cluster/cluster.js';
import { actOnUser, Questions } from '../cluster/node-questions.js';
import { GuestExpiry } from './guest-expiry.js';
import { InFlight } from './in-flight.js';
import { MemberDirectory } from './member-directory.js';
import { PeopleService } from './people-service.js';
import { ProfileBook } from './profile-book.js';
import { DEFAULT_ROOM, type ChatMessage, type ChatUser } from './protocol.js';
import { SeenBook } from './seen-book.js';
import { SqliteChatStore } from './sqlite-chat-store.js';
import { UserEvents } from './user-events.js';

export interface ChatModuleOptions {
  config: Config;
  node: Node;
  http: FastifyInstance;
  logger: Logger;
  /** Where the chat database lives when no `store` is given. */
  dataDir: string;
  /**
   * The chat store to use (not yet opened; the module opens and closes it).
   * @default SQLite at `<dataDir>/chat.db`
   */
  store?: ChatStore;
  /** Where sign-in and token refresh limits count. @default memoryAddressLimiters */
  addressLimiters?: AddressLimiters;
  /** Accounts, sessions and invitations (not yet opened; the module opens and closes it with the chat store). */
  accounts: AccountStore;
  /**
   * The deployment's nodes, so that a user removed or banned from a room
   * loses their subscriptions on every node. @default this node alone
   */
  cluster?: Cluster;
  /** Closes users' connections on every node (sign-out everywhere, deactivation). */
  disconnects: UserDisconnectParts;
}

/** A running chat module; `close` makes pending writes durable and releases storage. */
export interface ChatModule {
  /**
   * Posts a message as `author` on the server's own authority (seed bridges,
   * the server API). The conversation must exist; 107 for invalid text, 102
   * for an unknown conversation. A repeated `nonce` (per author) posts
   * nothing new and returns the first message.
   */
  post(author: ChatUser, channel: string, text: string, nonce?: string): Promise<{ message: ChatMessage; publication: Publication }>;
  /** The newest `limit` messages of a conversation (at most 1000), oldest first. */
  latest(channel: string, limit: number): Promise<ChatMessage[]>;
  close(): Promise<void>;
}

/** Topic of the room every user starts in. */
const DEFAULT_ROOM_TOPIC = 'Everyone is here';

/**
 * Adds the chat features to a server: the `chat.*` RPC methods on the node
 * and the web app's sign-in routes (`/app/*`) on the HTTP server, over a chat
 * database at `<dataDir>/chat.db`. The default room exists once this resolves.
 *
 * `close()` refuses new chat operations, waits for running ones to finish
 * (their writes durable, their events published), then closes the chat
 * database; call it before the core store closes. Idempotent.
 */
export async function attachChat(options: ChatModuleOptions): Promise<ChatModule> {
  const { config, node, http, dataDir } = options;
  const logger = options.logger.child({ component: 'chat' });
  mkdirSync(dataDir, { recursive: true });
  const store: ChatStore = options.store ?? new SqliteChatStore({ path: join(dataDir, 'chat.db'), logger });
  const { accounts } = options;
  let chat: ChatService;
  const inFlight = new InFlight(() => Errors.notAvailable('The chat server is shutting down; try again in a moment'));
  try {
    await Promise.all([store.open(), accounts.open()]);
    await store.createRoom({ name: DEFAULT_ROOM, topic: DEFAULT_ROOM_TOPIC, createdBy: '', createdAt: Date.now() });
    const channels = new ChatChannels(node, store);
    const directory = new MemberDirectory(store);
    const profiles = new ProfileBook(store);
    const userEvents = new UserEvents(node, logger);
    const { cluster } = options;
    const evict = async (user: string, channel: string): Promise<void> => {
      if (cluster) await actOnUser(cluster, Questions.unsubscribe, { user, channel, filter: {} });
      else await node.unsubscribeUser(user, channel);
    };
    const moderation = new ModerationService({ node, store, channels, userEvents, accounts, audit: accounts, evict, logger });
    const isAdmin = (userId: string) => moderation.isAdmin(userId);
    node.gates.register('room', (user, spec, operation) => channels.checkRoom(user, spec, operation));
    const facts = new AccountFacts(accounts);
    chat = new ChatService({ node, store, channels, profiles, userEvents, moderation });
    const conversations = new ConversationService({ store, channels, profiles, userEvents, directory, isAdmin, facts, evict });
    const people = new PeopleService({ store, facts, guestExpirySeconds: config.guestExpiry });
    const seen = new SeenBook(store, facts, logger);
    const audit = new AuditView(accounts, accounts, store, isAdmin);
    registerChatRpc(node, { chat, conversations, moderation, audit, people, seen }, inFlight);
    registerClientPublish(node, chat, channels, inFlight);
    await registerAppRoutes(http, {
      config,
      store,
      accounts,
      inFlight,
      logger,
      disconnects: options.disconnects,
      ...(options.addressLimiters ? { addressLimiters: options.addressLimiters } : {}),
    });
  } catch (err) {
    await Promise.allSettled([store.close(), accounts.close()]);
    throw err;
  }

  const guestExpiry = new GuestExpiry(store, config.guestExpiry * 1000, logger);
  guestExpiry.start();
  let closing: Promise<void> | undefined;
  return {
    post: (author, channel, text, nonce) => inFlight.run(() => chat.post(author, channel, text, nonce)),
    latest: (channel, limit) => inFlight.run(() => chat.latest(channel, Math.min(Math.max(1, limit), 1000))),
    close: () => {
      closing ??= (async () => {
        await inFlight.close();
        await guestExpiry.stop();
        await Promise.all([store.close(), accounts.close()]);
      })();
      return closing;
    },
  };
}
