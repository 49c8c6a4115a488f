/** Device names for the list of signed-in devices, from User-Agent headers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceName, MAX_DEVICE_LENGTH } from '../src/accounts/device-name.js';

test('browsers and systems are named; unknown agents are shown cleaned and shortened', () => {
  const cases: [string | undefined, string][] = [
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 'Edge on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1', 'Chrome on iOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['node', 'Node.js'],
    [undefined, 'Unknown device'],
    ['', 'Unknown device'],
    ['MyBot/1.0\u0007\u001b[31m', 'MyBot/1.0[31m'],
  ];
  for (const [agent, name] of cases) assert.equal(deviceName(agent), name, String(agent));
  assert.equal([...deviceName('x'.repeat(500))].length, MAX_DEVICE_LENGTH);
});
