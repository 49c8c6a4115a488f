/**
 * Scenario (d): a connect storm. Clients connect with a fixed number of
 * handshakes in flight; each counts once it is ready: for Parley's native
 * endpoint that is after its JWT was verified and its subscribe answered.
 * Tokens are minted before the clock starts.
 */
import { connectionToken } from '../lib/jwt.js';
import { CpuWindow, round } from '../lib/proc.js';
import type { StormConfig, StormResult, Target } from '../lib/types.js';
import { BenchClient, connectMany } from './clients.js';
import { loadHealth, progress } from './common.js';
import { Histogram } from './histogram.js';
import { nowMicros } from './marker.js';

const READY: Record<Target['protocol'], string> = {
  centrifuge: 'connect (JWT verified) and subscribe answered',
  seed: 'WebSocket open (the protocol has no authentication or subscription)',
  socketio: 'Socket.IO namespace connected (40{"sid"}); no authentication',
};

export async function runStorm(target: Target, config: StormConfig): Promise<StormResult> {
  const label = `[d] ${target.id}`;
  const tokens =
    target.protocol === 'centrifuge'
      ? Array.from({ length: config.connections }, (_, i) => connectionToken(`storm${i}`, target.tokenSecret ?? ''))
      : [];
  const handshake = new Histogram();
  progress(`${label}: ${config.connections} connections, ${config.concurrency} in flight`);
  const server = new CpuWindow(target.pid);
  const self = new CpuWindow('self');
  const result = await connectMany(
    config.connections,
    config.concurrency,
    (index) => {
      const started = nowMicros();
      const client = new BenchClient({
        target,
        user: `storm${index}`,
        ...(target.channel ? { channel: target.channel } : {}),
        ...(tokens[index] ? { token: tokens[index] } : {}),
      });
      client.ready.then(() => handshake.record(nowMicros() - started), () => undefined);
      return client;
    },
    (done, failures) => progress(`${label}: ${done}/${config.connections} ready${failures ? `, ${failures} failed` : ''}`),
  );
  const serverUsage = server.stop();
  const selfUsage = self.stop();
  const completed = result.clients.length;
  progress(
    `${label}: ${completed} ready in ${result.seconds.toFixed(2)} s = ${Math.round(completed / result.seconds)}/s` +
      (result.failures ? ` (${result.failures} failed: ${result.firstError})` : ''),
  );
  for (const client of result.clients) client.close();
  return {
    scenario: 'd',
    connections: config.connections,
    concurrency: config.concurrency,
    completed,
    failures: result.failures,
    seconds: round(result.seconds, 3),
    connectsPerSecond: Math.round(completed / result.seconds),
    handshake: handshake.summary(),
    server: serverUsage,
    load: loadHealth(selfUsage, 0),
    ready: READY[target.protocol],
  };
}
