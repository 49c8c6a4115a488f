/**
 * Fossil delta compression of publications, for subscriptions that asked
 * for it (`delta: "fossil"`) in a namespace that allows it. A client
 * applies a patch to the payload of the last publication it was sent in the
 * subscription (its base), so a patch may only follow that publication;
 * anything else goes out whole and becomes the client's new base.
 */
import { createDelta } from 'fossil-delta';
import type { Codec } from './codec.js';
import type { DeltaForm, SentPublication, SubscribeResult } from './messages.js';
import { SharedPush } from './shared-push.js';
import type { Publication } from './types.js';

/**
 * Makes the fossil patch from `base` to `target` (payload bytes). The node
 * passes one that counts what it computes (`parley_delta_patches_total`).
 */
export type PatchMaker = (base: Buffer, target: Buffer) => Buffer;

export const fossilPatch: PatchMaker = (base, target) => {
  const patch = createDelta(base, target);
  return Buffer.from(patch.buffer, patch.byteOffset, patch.byteLength);
};

const FULL: DeltaForm = { kind: 'full' };

/**
 * The patch from one payload (JSON text) to the next, or undefined when it
 * is not smaller than the payload itself (then the payload goes whole).
 */
export function patchBetween(base: string, target: string, makePatch: PatchMaker): Buffer | undefined {
  const targetBytes = Buffer.from(target);
  const patch = makePatch(Buffer.from(base), targetBytes);
  return patch.length < targetBytes.length ? patch : undefined;
}

/**
 * Consecutive publications (a recovery) as a delta subscription receives
 * them in one reply: the first whole, each next one as a patch from the one
 * before it when that is smaller and the codec carries it. The client's base
 * is then the last one.
 */
export function deltaSequence(publications: readonly Publication[], codec: Codec, makePatch: PatchMaker): SentPublication[] {
  return publications.map((publication, index) => {
    const previous = publications[index - 1];
    const patch = previous && previous.offset !== undefined && previous.offset + 1 === publication.offset
      ? patchBetween(previous.data, publication.data, makePatch)
      : undefined;
    return { ...publication, deltaForm: patch && codec.carriesPatch(patch) ? { kind: 'patch', patch } : FULL };
  });
}

/**
 * Makes a subscribe result that granted delta compression say so, with its
 * recovered publications as a {@link deltaSequence}. Returns the offset of
 * the client's base after it: the last recovered publication, 0 for none.
 */
export function compressSubscribeResult(result: SubscribeResult, codec: Codec, makePatch: PatchMaker): number {
  result.delta = true;
  if (!result.publications) return 0;
  result.publications = deltaSequence(result.publications, codec, makePatch);
  return result.publications.at(-1)?.offset ?? 0;
}

/**
 * One publication of a channel that has delta subscribers, in the two forms
 * they may need, shared by all of them like a {@link SharedPush}: the patch
 * from the channel's previous publication is computed at most once, only
 * when a subscriber can use it, and each form is encoded at most once per
 * codec. Receivers must not modify the bytes.
 */
export class DeltaPush {
  /** Undefined until computed; null when no patch is worth sending. */
  private patch: Buffer | null | undefined;
  private fullPush: SharedPush | undefined;
  private patchPush: SharedPush | undefined;

  /**
   * @param plain the publication's push to subscriptions without delta
   * @param previous the channel's publication just before this one in its
   *   stream (offset one less, same epoch), when the node kept it: the only
   *   base a patch is made from.
   */
  constructor(
    private readonly channel: string,
    private readonly publication: Publication,
    private readonly plain: SharedPush,
    private readonly previous: Publication | undefined,
    private readonly makePatch: PatchMaker,
  ) {}

  /** The publication whole, which becomes the receiving client's base. */
  full(codec: Codec): Buffer {
    if (codec.deltaWholeIsPlain) return this.plain.bytes(codec);
    this.fullPush ??= new SharedPush({ type: 'pub', channel: this.channel, pub: { ...this.publication, deltaForm: FULL } });
    return this.fullPush.bytes(codec);
  }

  /**
   * The publication for a client whose base is the publication at
   * `baseOffset` (0: it has none): a patch when that base is the channel's
   * previous publication and a patch is smaller and fits the codec, else whole.
   */
  after(baseOffset: number, codec: Codec): Buffer {
    const patch = baseOffset > 0 && baseOffset === this.previous?.offset ? this.patchFromPrevious() : undefined;
    if (!patch || !codec.carriesPatch(patch)) return this.full(codec);
    this.patchPush ??= new SharedPush({ type: 'pub', channel: this.channel, pub: { ...this.publication, deltaForm: { kind: 'patch', patch } } });
    return this.patchPush.bytes(codec);
  }

  private patchFromPrevious(): Buffer | undefined {
    if (this.patch === undefined) {
      this.patch = this.previous ? patchBetween(this.previous.data, this.publication.data, this.makePatch) ?? null : null;
    }
    return this.patch ?? undefined;
  }
}
