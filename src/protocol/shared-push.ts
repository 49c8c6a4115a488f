import type { Codec } from './codec.js';
import type { Push } from './messages.js';

/**
 * A push delivered to many connections (a channel's publication, join or
 * leave), encoded at most once per codec however many connections receive
 * it, and only for the codecs its receivers use: a channel whose subscribers
 * all speak JSON never pays for Protobuf, and the reverse.
 *
 * The bytes returned are shared: receivers must not modify them.
 */
export class SharedPush {
  // Nearly every channel has receivers of one codec: that one needs no map.
  private firstCodec: Codec | undefined;
  private firstBytes: Buffer | undefined;
  private others: Map<Codec, Buffer> | undefined;

  constructor(readonly push: Push) {}

  bytes(codec: Codec): Buffer {
    if (this.firstCodec === codec) return this.firstBytes as Buffer;
    if (this.firstCodec === undefined) {
      this.firstCodec = codec;
      this.firstBytes = codec.push(this.push);
      return this.firstBytes;
    }
    let bytes = this.others?.get(codec);
    if (bytes === undefined) {
      bytes = codec.push(this.push);
      (this.others ??= new Map()).set(codec, bytes);
    }
    return bytes;
  }
}
