/**
 * The generated static Protobuf code of `client.proto` (see
 * `scripts/generate-protobuf.js`), typed, and the protobufjs runtime it runs on.
 */
import protobuf from 'protobufjs/minimal.js';
import generated from './generated/client-pb.js';
import type { centrifugal } from './generated/client-pb-types.js';

/** The protocol's message types: `pb.Command`, `pb.Reply`, and what they hold. */
export const pb = (generated as unknown as { centrifugal: typeof centrifugal }).centrifugal.centrifuge.protocol;
export type { centrifugal };
export const { Reader, Writer } = protobuf;
