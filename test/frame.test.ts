/** Frames built once for every subscriber decode as the text frames a WebSocket client expects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import { sharedTextFrame, textFrame } from '../src/transport/frame.js';

interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(chunk: Buffer): void;
}
// The `ws` package's own frame parser (its type definitions do not export it).
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (options: { isServer: boolean }) => FrameReceiver };

function decode(frame: Buffer): Promise<{ text: string; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    // A client-side receiver: server frames are unmasked.
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, isBinary: boolean) => resolve({ text: data.toString(), isBinary }));
    receiver.on('error', reject);
    receiver.write(frame);
  });
}

test('text frames of every length class decode to the same text', async () => {
  for (const length of [0, 1, 125, 126, 127, 65_535, 65_536, 200_000]) {
    const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
    for (const frame of [textFrame(text), textFrame(Buffer.from(text)), sharedTextFrame(Buffer.from(text))]) {
      const decoded = await decode(frame);
      assert.equal(decoded.isBinary, false);
      assert.equal(decoded.text, text, `length ${length}`);
    }
  }
});

test('a shared payload is framed once and the frame reused', () => {
  const payload = Buffer.from('{"push":{}}');
  assert.equal(sharedTextFrame(payload), sharedTextFrame(payload));
  assert.notEqual(sharedTextFrame(Buffer.from('{"push":{}}')), sharedTextFrame(payload));
});
