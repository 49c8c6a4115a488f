/**
 * The framing of streaming response bodies: one HTTP chunk per write (or
 * bare bytes for HTTP/1.0), one JSON line or one SSE event per message, and
 * a publication shared by many subscribers framed once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyFraming, jsonLines, serverSentEvents } from '../src/transport/stream-formats.js';

test('HTTP-streaming: each write is one chunk of newline-ended JSON lines', () => {
  const framing = bodyFraming(jsonLines, true);
  assert.equal(framing.frame('{"a":1}', undefined).toString(), '8\r\n{"a":1}\n\r\n');
  assert.equal(framing.frame('{"a":1}', ['{}', Buffer.from('{"é":2}')]).toString(), '14\r\n{"a":1}\n{}\n{"é":2}\n\r\n');
  assert.equal(bodyFraming(jsonLines, false).frame('{}', ['{"b":2}']).toString(), '{}\n{"b":2}\n');
});

test('SSE: one data event per message; a message with a line feed is split over data lines', () => {
  const framing = bodyFraming(serverSentEvents, false);
  assert.equal(framing.frame('{"a":1}', ['{}']).toString(), 'data: {"a":1}\n\ndata: {}\n\n');
  assert.equal(framing.frame('{"a":\n1}', undefined).toString(), 'data: {"a":\ndata: 1}\n\n');
  assert.equal(bodyFraming(serverSentEvents, true).frame('{}', undefined).toString(), 'a\r\ndata: {}\n\n\r\n');
});

test('a shared payload is framed once per format and reused for every connection', () => {
  const payload = Buffer.from('{"push":{"channel":"c","pub":{"data":1}}}');
  const first = bodyFraming(jsonLines, true).frame(payload, undefined);
  assert.equal(bodyFraming(jsonLines, true).frame(payload, undefined), first, 'the same bytes, not a copy');
  assert.notEqual(bodyFraming(serverSentEvents, true).frame(payload, undefined), first);
  assert.equal(payload.toString(), '{"push":{"channel":"c","pub":{"data":1}}}', 'the payload is never modified');
});
