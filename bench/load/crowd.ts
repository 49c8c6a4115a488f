/**
 * Scenario (f): a crowd storming into one chat room. Clients connect with a
 * fixed number of handshakes in flight and subscribe to one channel while a
 * publisher posts into it at a steady rate. The orchestrator runs it twice
 * per round on fresh servers: into a `room:` channel (presence and
 * join/leave on, as the web app's #general) and into a channel with the
 * same options but no presence. Each run reports connect time, RSS per
 * connection, clients dropped, publications lost, and the join and leave
 * pushes clients received.
 *
 * A publication counts as lost for a client when it was sent after that
 * client was ready (its subscribe answered) and never arrived; what was in
 * flight while it subscribed may or may not reach it.
 */
import { connectionToken } from '../lib/jwt.js';
import { CpuWindow, round, RssSampler, rssBytes } from '../lib/proc.js';
import type { CrowdConfig, CrowdResult, Target } from '../lib/types.js';
import { BenchClient, connectMany } from './clients.js';
import { loadHealth, progress, sleep, waitUntil } from './common.js';
import { Histogram } from './histogram.js';
import { marker, nowMicros } from './marker.js';
import { newPhaseId, Recorder, type Subscriber } from './recorder.js';

const JOIN = Buffer.from('"join":{"info"');
const LEAVE = Buffer.from('"leave":{"info"');

function occurrences(frame: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = frame.indexOf(needle); at !== -1; at = frame.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** Publishes one marked message at a time at `rate` per second until stopped; counts what it sent. */
class SteadyPublisher {
  sent = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: BenchClient,
    private readonly channel: string,
    private readonly phase: number,
  ) {}

  start(rate: number): void {
    const interval = 1000 / rate;
    const started = performance.now();
    const tick = () => {
      const due = Math.floor((performance.now() - started) / interval) + 1;
      while (this.sent < due) this.client.publish(marker(this.phase, ++this.sent, nowMicros()), this.channel);
      this.timer = setTimeout(tick, Math.max(0, started + this.sent * interval - performance.now()));
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

export async function runCrowd(target: Target, config: CrowdConfig): Promise<CrowdResult> {
  const presence = config.presence === true;
  const channel = presence ? target.crowdChannels?.presence : target.crowdChannels?.plain;
  if (!channel) throw new Error(`${target.id} has no crowd channels`);
  const label = `[f] ${target.id} ${presence ? 'presence' : 'no presence'}`;
  const secret = target.tokenSecret ?? '';
  const tokens = Array.from({ length: config.connections }, (_, i) => connectionToken(`crowd${i}`, secret, { name: `Crowd ${i}` }));

  const recorder = new Recorder();
  const phase = newPhaseId();
  const publisherClient = new BenchClient({ target, user: 'crowd-publisher' });
  await publisherClient.ready;
  const publisher = new SteadyPublisher(publisherClient, channel, phase);
  /** Publications sent when each subscriber became ready: it must get every one after. */
  const readyAt = new Map<Subscriber, number>();
  let joinPushes = 0;
  let leavePushes = 0;
  const joinsOf = new Map<Subscriber, number>();

  const rssBaseline = rssBytes(target.pid);
  recorder.begin(phase, config.rate * 600);
  publisher.start(config.rate);
  progress(`${label}: ${config.connections} clients into ${channel}, ${config.concurrency} in flight, ${config.rate} msg/s published meanwhile`);
  const peak = new RssSampler(target.pid);
  const server = new CpuWindow(target.pid);
  const self = new CpuWindow('self');
  const handshake = new Histogram();
  const storm = await connectMany(
    config.connections,
    config.concurrency,
    (index) => {
      const sink = recorder.add();
      const started = nowMicros();
      const client = new BenchClient({
        target,
        user: `crowd${index}`,
        channel,
        token: tokens[index] as string,
        sink,
        onFrame: (frame) => {
          const joins = occurrences(frame, JOIN);
          if (joins > 0) {
            joinPushes += joins;
            joinsOf.set(sink, (joinsOf.get(sink) ?? 0) + joins);
          }
          leavePushes += occurrences(frame, LEAVE);
        },
      });
      client.ready.then(
        () => {
          handshake.record(nowMicros() - started);
          readyAt.set(sink, publisher.sent);
        },
        () => undefined,
      );
      return client;
    },
    (done, failures) => progress(`${label}: ${done}/${config.connections} ready${failures ? `, ${failures} failed` : ''}`),
  );
  const serverUsage = server.stop();
  const selfUsage = self.stop();
  progress(`${label}: ${storm.clients.length} ready in ${storm.seconds.toFixed(2)} s; settling ${config.settle} s`);

  const samples: number[] = [];
  const settleEnds = performance.now() + config.settle * 1000;
  while (performance.now() < settleEnds) {
    samples.push(rssBytes(target.pid));
    await sleep(Math.min(1000, (config.settle * 1000) / 4));
  }
  publisher.stop();
  const published = publisher.sent;
  const connected = new Set(storm.clients.map((client) => client.sink));
  recorder.retain((subscriber) => connected.has(subscriber));
  const missing = (subscriber: Subscriber) => {
    let count = 0;
    for (let seq = (readyAt.get(subscriber) ?? published) + 1; seq <= published; seq++) if (!subscriber.has(seq)) count++;
    return count;
  };
  // Deliveries to one client keep their order: once every client that was ready before the last publication has it, the rest is in.
  await waitUntil(
    () => recorder.subscribers.every((subscriber) => (readyAt.get(subscriber) ?? published) >= published || subscriber.has(published)),
    config.drain * 1000,
  );
  const lost = recorder.subscribers.reduce((sum, subscriber) => sum + missing(subscriber), 0);
  const rssPeak = peak.stop();
  const rssSettled = samples.reduce((sum, value) => sum + value, 0) / Math.max(1, samples.length);
  const completed = storm.clients.length;
  const perConnection = Math.round((rssSettled - rssBaseline) / Math.max(1, completed));
  const maxJoins = Math.max(0, ...joinsOf.values());
  const stillOpen = storm.clients.filter((client) => !client.closed).length;
  progress(
    `${label}: ${(perConnection / 1024).toFixed(1)} KB RSS per connection, ${completed - stillOpen} dropped, ` +
      `${lost} of ${published} publications lost, ${joinPushes} join pushes (at most ${maxJoins} per client)`,
  );
  publisherClient.close();
  for (const client of storm.clients) client.close();
  return {
    scenario: 'f',
    run: {
      presence,
      channel,
      connections: config.connections,
      completed,
      failures: storm.failures,
      seconds: round(storm.seconds, 3),
      connectsPerSecond: Math.round(completed / storm.seconds),
      handshake: handshake.summary(),
      rssBaselineBytes: rssBaseline,
      rssSettledBytes: Math.round(rssSettled),
      rssPeakBytes: rssPeak,
      rssPerConnectionBytes: perConnection,
      dropped: completed - stillOpen,
      published,
      lost,
      duplicates: recorder.duplicates,
      joinPushes,
      leavePushes,
      maxJoinPushesPerClient: maxJoins,
      server: serverUsage,
      load: loadHealth(selfUsage, 0),
    },
  };
}
