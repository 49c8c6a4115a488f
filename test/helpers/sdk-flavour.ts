/**
 * Which variant of the real SDK the conformance suite runs with: the
 * protocol encoding (JSON or Protobuf) and the transport (WebSocket, or the
 * HTTP-streaming and SSE fallbacks with bidirectional emulation).
 *
 * The suite (the files in `CONFORMANCE_FILES` of `scripts/test.js`) is run
 * once per flavour; `PARLEY_SDK_FLAVOUR` names it as `encoding/transport`
 * (default `json/websocket`). Every client the tests make through
 * `helpers/sdk.ts` uses it, so the same assertions hold for every flavour.
 */
import { Centrifuge, type Options, type TransportEndpoint } from 'centrifuge';
import { EventSource } from 'eventsource';
import { protobufClient } from './sdk-protobuf.js';

export type SdkEncoding = 'json' | 'protobuf';
export type SdkTransport = 'websocket' | 'http_stream' | 'sse';

export interface SdkFlavour {
  encoding: SdkEncoding;
  transport: SdkTransport;
}

const ENCODINGS: readonly SdkEncoding[] = ['json', 'protobuf'];
const TRANSPORTS: readonly SdkTransport[] = ['websocket', 'http_stream', 'sse'];

/** Parses `encoding/transport`; throws for anything else, so a typo in the runner cannot silently test JSON over WebSocket again. */
export function parseFlavour(text: string): SdkFlavour {
  const [encoding, transport, ...rest] = text.split('/');
  if (rest.length > 0 || !ENCODINGS.includes(encoding as SdkEncoding) || !TRANSPORTS.includes(transport as SdkTransport)) {
    throw new Error(`PARLEY_SDK_FLAVOUR must be encoding/transport (${ENCODINGS.join('|')}/${TRANSPORTS.join('|')}), not ${JSON.stringify(text)}`);
  }
  return { encoding: encoding as SdkEncoding, transport: transport as SdkTransport };
}

/** The flavour of this test process. */
export const flavour: SdkFlavour = parseFlavour(process.env.PARLEY_SDK_FLAVOUR ?? 'json/websocket');

/** `json/websocket` and the like, for test names and messages. */
export function flavourName(value: SdkFlavour = flavour): string {
  return `${value.encoding}/${value.transport}`;
}

/**
 * The first argument for `new Centrifuge(...)` in this flavour, given the
 * server's WebSocket URL (`ws://host:port/connection/websocket`).
 */
export function endpointFor(wsUrl: string): string | TransportEndpoint[] {
  switch (flavour.transport) {
    case 'websocket':
      return wsUrl;
    case 'http_stream':
      return [{ transport: 'http_stream', endpoint: httpUrl(wsUrl, '/connection/http_stream') }];
    case 'sse':
      return [{ transport: 'sse', endpoint: httpUrl(wsUrl, '/connection/sse') }];
  }
}

/**
 * The SDK options this flavour needs besides the endpoint: over the
 * emulated transports, where the later commands go (an absolute URL: Node's
 * `fetch` has no page to resolve `/emulation` against) and, for SSE, an
 * EventSource (Node 20 has none of its own).
 */
export function optionsFor(wsUrl: string): Partial<Options> {
  switch (flavour.transport) {
    case 'websocket':
      return {};
    case 'http_stream':
      return { emulationEndpoint: httpUrl(wsUrl, '/emulation') };
    case 'sse':
      return { emulationEndpoint: httpUrl(wsUrl, '/emulation'), eventsource: EventSource };
  }
}

/** The server's `http://` URL at `path`, from its WebSocket URL. */
export function httpUrl(wsUrl: string, path: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = path;
  url.search = '';
  return url.toString();
}

/** A new client of the SDK build of this flavour's encoding, taking and giving JSON values whatever the encoding. */
export function newCentrifuge(wsUrl: string, options: Partial<Options>): Centrifuge {
  const endpoint = endpointFor(wsUrl);
  const all = { ...optionsFor(wsUrl), ...options };
  return flavour.encoding === 'protobuf' ? protobufClient(endpoint, all) : new Centrifuge(endpoint, all);
}
