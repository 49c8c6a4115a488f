/** Frames built once for every subscriber decode as the text frames a WebSocket client expects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import { dataFrame, sharedDataFrame } from '../src/transport/frame.js';

interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(chunk: Buffer): void;
}
// The `ws` package's own frame parser (its type definitions do not export it).
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (options: { isServer: boolean }) => FrameReceiver };

function decode(frame: Buffer): Promise<{ text: string; data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    // A client-side receiver: server frames are unmasked.
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, isBinary: boolean) => resolve({ text: data.toString(), data, isBinary }));
    receiver.on('error', reject);
    receiver.write(frame);
  });
}

test('text frames of every length class decode to the same text', async () => {
  for (const length of [0, 1, 125, 126, 127, 65_535, 65_536, 200_000]) {
    const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
    for (const frame of [dataFrame(text), dataFrame(Buffer.from(text)), sharedDataFrame(Buffer.from(text))]) {
      const decoded = await decode(frame);
      assert.equal(decoded.isBinary, false);
      assert.equal(decoded.text, text, `length ${length}`);
    }
  }
});

test('binary frames of every length class decode to the same bytes, as binary messages', async () => {
  for (const length of [0, 1, 125, 126, 65_535, 65_536]) {
    const bytes = Buffer.alloc(length, 0xfe);
    for (const frame of [dataFrame(bytes, true), sharedDataFrame(bytes, true)]) {
      const decoded = await decode(frame);
      assert.equal(decoded.isBinary, true);
      assert.ok(decoded.data.equals(bytes), `length ${length}`);
    }
  }
});

test('a shared payload is framed once and the frame reused', () => {
  const payload = Buffer.from('{"push":{}}');
  assert.equal(sharedDataFrame(payload), sharedDataFrame(payload));
  assert.notEqual(sharedDataFrame(Buffer.from('{"push":{}}')), sharedDataFrame(payload));
});
