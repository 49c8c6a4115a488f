/**
 * Scenario (c): many idle clients, connected (and, where the protocol has it,
 * authenticated and subscribed). Memory per connection is the growth of the
 * server's RSS from before connecting to the mean of an idle window (sampled
 * every second after a settling period), divided by the connections: a
 * garbage-collected server's RSS rises and falls while idle, and one sample
 * would land anywhere on that saw. The value right after connecting and the
 * highest idle sample are reported too. Then one message checks that every
 * idle client is still reachable.
 */
import { CpuWindow, openFileLimits, round, rssBytes } from '../lib/proc.js';
import type { IdleConfig, IdleCount, IdleResult, Target } from '../lib/types.js';
import { connectSubscribers, progress, PublisherPool, sleep, waitUntil } from './common.js';
import { marker, nowMicros } from './marker.js';
import { newPhaseId, Recorder } from './recorder.js';

/** Connections per source address: well under the ~28k ephemeral ports one address has. */
const PER_SOURCE_ADDRESS = 20_000;
/** File descriptors kept free for everything else the processes open. */
const FD_MARGIN = 200;

export async function runIdle(target: Target, config: IdleConfig): Promise<IdleResult> {
  const counts: IdleCount[] = [];
  for (const requested of config.counts) {
    const limit = Math.min(openFileLimits('self').soft, openFileLimits(target.pid).soft) - FD_MARGIN;
    if (requested > limit) {
      const skipped = `needs ${requested} open files per process; the limit here is ${limit + FD_MARGIN} (hard limit, not raisable without privileges)`;
      progress(`[c] ${target.id}: ${requested} connections skipped: ${skipped}`);
      counts.push({ ...empty(requested), skipped });
      continue;
    }
    counts.push(await runCount(target, config, requested));
  }
  return { scenario: 'c', counts };
}

async function runCount(target: Target, config: IdleConfig, requested: number): Promise<IdleCount> {
  const label = `[c] ${target.id} ${requested}`;
  await sleep(Math.min(500, config.settle * 1000));
  const rssBaseline = rssBytes(target.pid);
  const recorder = new Recorder();
  let closed = 0;
  const sourceAddresses = requested > PER_SOURCE_ADDRESS ? Math.ceil(requested / PER_SOURCE_ADDRESS) : 1;
  const connected = await connectSubscribers(target, recorder, requested, label, {
    onClose: () => closed++,
    ...(sourceAddresses > 1 ? { spreadOver: PER_SOURCE_ADDRESS } : {}),
  });
  const rssConnected = rssBytes(target.pid);
  progress(`${label}: settling ${config.settle} s, then sampling RSS for ${config.idle} s`);
  await sleep(config.settle * 1000);
  const idle = new CpuWindow(target.pid);
  const samples: number[] = [];
  const sampleEveryMs = Math.min(1000, (config.idle * 1000) / 2);
  const idleEnds = Date.now() + config.idle * 1000;
  while (Date.now() < idleEnds) {
    samples.push(rssBytes(target.pid));
    await sleep(sampleEveryMs);
  }
  const idleUsage = idle.stop();
  const rssIdleMean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  const rssIdleMax = Math.max(...samples);
  const stillOpen = connected.clients.filter((client) => !client.closed).length;

  // One message to everyone: idle connections must still deliver.
  const publishers = new PublisherPool(target);
  await publishers.ensure(1);
  const phase = newPhaseId();
  recorder.begin(phase, 1);
  await publishers.publishAtRate(1, 1, (seq) => marker(phase, seq, nowMicros()));
  await waitUntil(() => recorder.delivered >= recorder.subscribers.length, config.drain * 1000);
  const probeDelivered = recorder.delivered;
  const probeLost = recorder.lostOf(1);
  const perConnection = (rss: number) => Math.round((rss - rssBaseline) / Math.max(1, connected.clients.length));
  progress(
    `${label}: ${(perConnection(rssIdleMean) / 1024).toFixed(1)} KB RSS per connection idle ` +
      `(${(perConnection(rssConnected) / 1024).toFixed(1)} KB right after connecting), ${stillOpen} still open, probe reached ${probeDelivered}`,
  );
  publishers.close();
  for (const client of connected.clients) client.close();
  await waitUntil(() => closed >= connected.clients.length, 10_000);
  return {
    requested,
    connected: connected.clients.length,
    connectFailures: connected.failures,
    connectSeconds: round(connected.seconds, 2),
    rssBaselineBytes: rssBaseline,
    rssConnectedBytes: rssConnected,
    rssIdleMeanBytes: Math.round(rssIdleMean),
    rssIdleMaxBytes: rssIdleMax,
    rssPerConnectionBytes: perConnection(rssIdleMean),
    rssPerConnectionPeakBytes: perConnection(rssIdleMax),
    rssPerConnectionJustConnectedBytes: perConnection(rssConnected),
    idleUtilization: idleUsage.utilization,
    stillOpen,
    probeDelivered,
    probeLost,
    sourceAddresses,
  };
}

function empty(requested: number): IdleCount {
  return {
    requested,
    connected: 0,
    connectFailures: 0,
    connectSeconds: 0,
    rssBaselineBytes: 0,
    rssConnectedBytes: 0,
    rssIdleMeanBytes: 0,
    rssIdleMaxBytes: 0,
    rssPerConnectionBytes: 0,
    rssPerConnectionPeakBytes: 0,
    rssPerConnectionJustConnectedBytes: 0,
    idleUtilization: 0,
    stillOpen: 0,
    probeDelivered: 0,
    probeLost: 0,
    sourceAddresses: 0,
  };
}
