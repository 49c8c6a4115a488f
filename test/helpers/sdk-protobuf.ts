/**
 * The SDK's Protobuf build, used by the tests as if it were the JSON one.
 *
 * Over Protobuf every payload is bytes: the SDK takes `Uint8Array` data and
 * gives `Uint8Array` data, connInfo and chanInfo. Parley's payloads are JSON
 * text either way, so this is the one place the tests' JSON values become
 * their UTF-8 JSON bytes on the way out (publish, rpc, send, connect and
 * subscribe data) and bytes become JSON values again on the way in (events,
 * rpc, history and presence results). Assertions stay the same for every
 * flavour.
 */
import type { Centrifuge, Options, SubscriptionOptions } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge, type Subscription as ProtobufSubscription } from 'centrifuge/build/protobuf';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
/** The fields that carry JSON payloads as bytes over Protobuf. */
const PAYLOAD_FIELDS: ReadonlySet<string> = new Set(['data', 'connInfo', 'chanInfo']);

function toBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value ?? null));
}

/** Bytes as the JSON value they hold; empty bytes (an absent field) as undefined. */
function fromBytes(bytes: Uint8Array): unknown {
  return bytes.length === 0 ? undefined : JSON.parse(decoder.decode(bytes));
}

/** Plain objects, and decoded Protobuf messages that the SDK hands on as they are (presence entries). */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || typeof (prototype?.constructor as { decode?: unknown } | undefined)?.decode === 'function';
}

/** A copy of `value` with every payload field holding bytes turned into its JSON value; only plain objects, messages and arrays are copied. */
export function withJsonPayloads<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withJsonPayloads) as T;
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = PAYLOAD_FIELDS.has(key) && item instanceof Uint8Array ? fromBytes(item) : withJsonPayloads(item);
  }
  return out as T;
}

function withByteData<T extends { data?: unknown }>(options: T): T {
  return options.data === undefined ? options : { ...options, data: toBytes(options.data) };
}

function adaptSubscription(sub: ProtobufSubscription): ProtobufSubscription {
  const target = sub as unknown as Record<string, (...args: any[]) => any>;
  const emit = target.emit!.bind(sub);
  target.emit = (event: string, ...args: unknown[]) => emit(event, ...args.map(withJsonPayloads));
  // Its publish, history and presence go through the client's, which adapt them.
  return sub;
}

class JsonPayloadCentrifuge extends ProtobufCentrifuge {
  constructor(endpoint: ConstructorParameters<typeof ProtobufCentrifuge>[0], options: Partial<Options>) {
    super(endpoint, withByteData(options) as ConstructorParameters<typeof ProtobufCentrifuge>[1]);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const emit = super.emit.bind(this) as (event: string | symbol, ...args: unknown[]) => boolean;
    return emit(event, ...args.map(withJsonPayloads));
  }

  override publish(channel: string, data: unknown) {
    return super.publish(channel, toBytes(data));
  }

  override send(data: unknown) {
    return super.send(toBytes(data));
  }

  override rpc(method: string, data: unknown) {
    return super.rpc(method, toBytes(data)).then(withJsonPayloads);
  }

  override history(...args: Parameters<ProtobufCentrifuge['history']>) {
    return super.history(...args).then(withJsonPayloads);
  }

  override presence(channel: string) {
    return super.presence(channel).then(withJsonPayloads);
  }

  override newSubscription(channel: string, options?: SubscriptionOptions) {
    return adaptSubscription(super.newSubscription(channel, options && withByteData(options)));
  }
}

/** A client of the SDK's Protobuf build that takes and gives JSON values like the JSON build. */
export function protobufClient(endpoint: ConstructorParameters<typeof Centrifuge>[0], options: Partial<Options>): Centrifuge {
  return new JsonPayloadCentrifuge(endpoint, options) as unknown as Centrifuge;
}
