import type { Node, RpcContext } from '../node/node.js';
import { Errors } from '../protocol/errors.js';
import type { ChatService } from './chat-service.js';
import type { ConversationService } from './conversation-service.js';
import type { InFlight } from './in-flight.js';
import type { PeopleService } from './people-service.js';
import { callerOf, type Caller } from './profile.js';
import type { AuditView } from './audit-view.js';
import type { ModerationService } from './moderation-service.js';
import { MAX_ADD_MEMBERS, MAX_DM_USERS, type AdminRpc, type ChatRpc, type ModerationAction } from './protocol.js';
import type { SeenBook } from './seen-book.js';

/** The fields of an RPC's `data`, read with type checks that name the field at fault. */
class Fields {
  constructor(private readonly data: Record<string, unknown>) {}

  string(name: string): string {
    const value = this.data[name];
    if (typeof value !== 'string') throw Errors.badRequest(`${name} must be a string`);
    return value;
  }

  optionalString(name: string): string | undefined {
    const value = this.data[name];
    return value === undefined || value === null ? undefined : this.string(name);
  }

  integer(name: string): number {
    const value = this.data[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw Errors.badRequest(`${name} must be a whole number`);
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw Errors.badRequest(`${name} must be true or false`);
    return value;
  }

  /** An array of strings, at most `max` long (so a huge array is refused before any work). */
  strings(name: string, max: number): string[] {
    const value = this.data[name];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw Errors.badRequest(`${name} must be an array of strings`);
    if (value.length > max) throw Errors.badRequest(`${name} may hold at most ${max} entries`);
    return value as string[];
  }

  /** One of the given strings. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.string(name);
    if (!(allowed as readonly string[]).includes(value)) throw Errors.badRequest(`${name} must be one of ${allowed.join(', ')}`);
    return value as T;
  }

  optionalInteger(name: string): number | undefined {
    const value = this.data[name];
    return value === undefined || value === null ? undefined : this.integer(name);
  }
}

function fieldsOf(data: unknown): Fields {
  if (data === undefined || data === null) return new Fields({});
  if (typeof data !== 'object' || Array.isArray(data)) throw Errors.badRequest('request data must be a JSON object');
  return new Fields(data as Record<string, unknown>);
}

/** Copies the optional fields that are present, so absent ones stay absent (not `undefined`). */
function withOptional<T extends object, O extends Record<string, unknown>>(required: T, optional: O): T & Partial<O> {
  const out: Record<string, unknown> = { ...(required as Record<string, unknown>) };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) out[key] = value;
  return out as T & Partial<O>;
}

type Methods = ChatRpc & AdminRpc;
type Handler<M extends keyof Methods> = (caller: Caller, request: Methods[M]['request']) => Promise<Methods[M]['result']>;

/** The services the RPC methods call. */
export interface ChatRpcServices {
  chat: ChatService;
  conversations: ConversationService;
  moderation: ModerationService;
  audit: AuditView;
  people: PeopleService;
  /** Told of every caller whose call succeeded. */
  seen: SeenBook;
}

const MODERATION_ACTIONS: readonly ModerationAction[] = ['remove', 'mute', 'unmute', 'ban', 'unban', 'setRole'];


/**
 * Registers every `chat.*` method of {@link ChatRpc} and `admin.*` method of
 * {@link AdminRpc} on the node. Each call is refused for anonymous
 * connections (101), has its request checked for shape (107 naming the
 * field), and runs counted by `inFlight` so shutdown waits for it. A caller
 * whose call succeeds counts as seen (at most one write a minute per user).
 */
export function registerChatRpc(node: Node, services: ChatRpcServices, inFlight: InFlight): void {
  const { chat, conversations, moderation, audit, people, seen } = services;
  const register = <M extends keyof Methods>(method: M, parse: (fields: Fields) => Methods[M]['request'], handle: Handler<M>): void => {
    node.registerRpc(method, (context: RpcContext, data: unknown) =>
      inFlight.run(async () => {
        const caller = callerOf(context);
        const result = await handle(caller, parse(fieldsOf(data)));
        await seen.seen(caller.user.id);
        return result;
      }),
    );
  };
  const none = (): Record<string, never> => ({});

  register('chat.bootstrap', none, (caller) => conversations.bootstrap(caller));
  register('chat.rooms', none, (caller) => conversations.rooms(caller));
  register(
    'chat.createRoom',
    (f) => withOptional({ name: f.string('name') }, { topic: f.optionalString('topic'), private: f.optionalBoolean('private') }),
    (caller, request) => conversations.createRoom(caller, request),
  );
  register(
    'chat.addMembers',
    (f) => ({ channel: f.string('channel'), users: f.strings('users', MAX_ADD_MEMBERS) }),
    (caller, request) => moderation.addMembers(caller, request),
  );
  register(
    'chat.moderate',
    (f) =>
      withOptional(
        { channel: f.string('channel'), action: f.oneOf('action', MODERATION_ACTIONS), user: f.string('user') },
        { role: f.optionalString('role') as 'moderator' | 'member' | undefined },
      ),
    (caller, request) => moderation.moderate(caller, request),
  );
  register('chat.bans', (f) => ({ channel: f.string('channel') }), (caller, request) => moderation.bans(caller, request));
  register(
    'admin.audit',
    (f) => withOptional({}, { before: f.optionalInteger('before'), limit: f.optionalInteger('limit') }),
    (caller, request) => audit.page(caller, request),
  );
  register('chat.joinRoom', (f) => ({ name: f.string('name') }), (caller, request) => conversations.joinRoom(caller, request));
  register('chat.leaveRoom', (f) => ({ name: f.string('name') }), (caller, request) => conversations.leaveRoom(caller, request));
  register('chat.openDm', (f) => ({ user: f.string('user') }), (caller, request) => conversations.openDm(caller, request));
  register(
    'chat.openGroup',
    (f) => ({ users: f.strings('users', MAX_DM_USERS) }),
    (caller, request) => conversations.openGroup(caller, request),
  );
  register(
    'chat.users',
    (f) =>
      withOptional(
        {},
        { query: f.optionalString('query'), cursor: f.optionalString('cursor'), limit: f.optionalInteger('limit') },
      ),
    (caller, request) => people.users(caller, request),
  );
  register(
    'chat.members',
    (f) =>
      withOptional(
        { channel: f.string('channel') },
        { query: f.optionalString('query'), cursor: f.optionalString('cursor'), limit: f.optionalInteger('limit') },
      ),
    (caller, request) => conversations.members(caller, request),
  );
  register(
    'chat.history',
    (f) => withOptional({ channel: f.string('channel') }, { before: f.optionalInteger('before'), limit: f.optionalInteger('limit') }),
    (caller, request) => chat.history(caller, request),
  );
  register(
    'chat.send',
    (f) => withOptional({ channel: f.string('channel'), text: f.string('text') }, { nonce: f.optionalString('nonce') }),
    (caller, request) => chat.send(caller, request),
  );
  register(
    'chat.edit',
    (f) => ({ channel: f.string('channel'), id: f.string('id'), text: f.string('text') }),
    (caller, request) => chat.edit(caller, request),
  );
  register('chat.delete', (f) => ({ channel: f.string('channel'), id: f.string('id') }), (caller, request) => chat.delete(caller, request));
  register(
    'chat.react',
    (f) => ({ channel: f.string('channel'), id: f.string('id'), emoji: f.string('emoji') }),
    (caller, request) => chat.react(caller, request),
  );
  register('chat.typing', (f) => ({ channel: f.string('channel') }), (caller, request) => chat.typingNotice(caller, request));
  register(
    'chat.markRead',
    (f) => ({ channel: f.string('channel'), seq: f.integer('seq') }),
    (caller, request) => chat.markRead(caller, request),
  );
  register(
    'chat.search',
    (f) => withOptional({ query: f.string('query') }, { limit: f.optionalInteger('limit') }),
    (caller, request) => chat.search(caller, request),
  );
}
