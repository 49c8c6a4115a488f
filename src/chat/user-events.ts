import type { ChannelSpec } from '../channel/channel.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import type { UserEvent } from './protocol.js';

/**
 * Publishes {@link UserEvent}s to `user:<id>`, where all of a user's devices
 * listen. These notices follow a change that is already durable, so failing
 * to send one is logged, not reported to the caller: the devices catch up
 * on their next bootstrap.
 */
export class UserEvents {
  constructor(
    private readonly node: Node,
    private readonly logger: Logger,
  ) {}

  /** Publishes `event` to the user's channel; resolves once it is in the channel's stream (or failed, logged). */
  async publish(userId: string, event: UserEvent): Promise<void> {
    const channel = `user:${userId}`;
    let spec: ChannelSpec;
    try {
      spec = this.node.channels.resolve(channel);
    } catch {
      // A user id that makes no valid channel name (whitespace, commas) has no inbox.
      this.logger.debug({ channel, type: event.type }, 'chat: user has no valid user channel');
      return;
    }
    try {
      await this.node.publish(spec, { data: JSON.stringify(event) });
    } catch (err) {
      this.logger.error({ err, channel, type: event.type }, 'chat: user event not published');
    }
  }
}
