/**
 * Scenarios (a) one big room at a fixed rate and (b) a busy room with the
 * rate stepped up: subscribers on one channel, publishers at a fixed rate,
 * every delivery counted and timed at the subscribers.
 */
import { CpuWindow, RssSampler, round, rssBytes } from '../lib/proc.js';
import type { FanoutConfig, FanoutResult, LoadHealth, PhaseFigures, ProcessUsage, StepResult, StepsConfig, StepsResult, Target } from '../lib/types.js';
import { loadHealth, progress, PublisherPool, connectSubscribers, sleep, waitQuiet, waitUntil } from './common.js';
import { marker, nowMicros } from './marker.js';
import { newPhaseId, Recorder } from './recorder.js';

interface PhaseOutcome {
  sent: number;
  achievedRate: number;
  delivered: number;
  expected: number;
  lost: number;
  duplicates: number;
  closed: number;
  publishErrors: number;
  wallSeconds: number;
  latency: ReturnType<Recorder['histogram']['summary']>;
  server: ProcessUsage;
  load: LoadHealth;
}

interface Fleet {
  target: Target;
  recorder: Recorder;
  publishers: PublisherPool;
  /** Subscribers whose connection has closed so far. */
  closed: () => number;
  label: string;
}

/** Publishes `rate × duration` messages and waits up to `drain` seconds for every subscriber to have them all. */
async function runPhase(fleet: Fleet, rate: number, duration: number, drain: number, reportEverySeconds: number): Promise<PhaseOutcome> {
  const { target, recorder, publishers, label } = fleet;
  const total = Math.max(1, Math.round(rate * duration));
  const phase = newPhaseId();
  recorder.begin(phase, total);
  const subscribers = recorder.subscribers.length;
  const closedBefore = fleet.closed();
  const errorsBefore = publishers.publishErrors;
  const server = new CpuWindow(target.pid);
  const self = new CpuWindow('self');
  const started = performance.now();
  const reporter = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    progress(`${label}: ${rate} msg/s, ${elapsed.toFixed(0)}/${duration} s, ${recorder.delivered} deliveries`);
  }, reportEverySeconds * 1000);
  const published = await publishers.publishAtRate(rate, total, (seq) => marker(phase, seq, nowMicros()));
  clearInterval(reporter);
  const expected = published.sent * subscribers;
  await waitUntil(() => recorder.delivered >= expected, drain * 1000);
  const serverUsage = server.stop();
  const selfUsage = self.stop();
  const wallSeconds = (performance.now() - started) / 1000;
  return {
    sent: published.sent,
    achievedRate: round(published.sent / published.seconds, 1),
    delivered: recorder.delivered,
    expected,
    lost: recorder.lostOf(published.sent),
    duplicates: recorder.duplicates,
    closed: fleet.closed() - closedBefore,
    publishErrors: publishers.publishErrors - errorsBefore,
    wallSeconds,
    latency: recorder.histogram.summary(),
    server: serverUsage,
    load: loadHealth(selfUsage, published.maxLagMs),
  };
}

async function setUp(target: Target, subscribers: number, label: string): Promise<{ fleet: Fleet; failures: number; rssBaseline: number }> {
  const rssBaseline = rssBytes(target.pid);
  const recorder = new Recorder();
  let closed = 0;
  const connected = await connectSubscribers(target, recorder, subscribers, label, { onClose: () => closed++ });
  if (connected.clients.length === 0) throw new Error(`no subscriber could connect: ${connected.firstError}`);
  const publishers = new PublisherPool(target);
  const fleet: Fleet = { target, recorder, publishers, closed: () => closed, label };
  return { fleet, failures: connected.failures, rssBaseline };
}

function perCpuSecond(delivered: number, usage: ProcessUsage): number {
  return usage.cpuSeconds > 0 ? Math.round(delivered / usage.cpuSeconds) : 0;
}

/** The reported figures of a measured phase. */
function figuresOf(outcome: PhaseOutcome): PhaseFigures {
  return {
    sent: outcome.sent,
    delivered: outcome.delivered,
    expected: outcome.expected,
    lost: outcome.lost,
    duplicates: outcome.duplicates,
    closed: outcome.closed,
    deliveriesPerSecond: Math.round(outcome.delivered / outcome.wallSeconds),
    latency: outcome.latency,
    server: outcome.server,
    deliveriesPerCpuSecond: perCpuSecond(outcome.delivered, outcome.server),
    load: outcome.load,
  };
}

/** (a) one big room: `subscribers` on one channel, `rate` messages per second for `duration` seconds. */
export async function runFanout(target: Target, config: FanoutConfig): Promise<FanoutResult> {
  const label = `[a] ${target.id}`;
  const { fleet, failures, rssBaseline } = await setUp(target, config.subscribers, label);
  await fleet.publishers.ensure(config.rate);
  await sleep(config.settle * 1000);
  const rssConnected = rssBytes(target.pid);
  if (config.warmup > 0) {
    progress(`${label}: warming up for ${config.warmup} s (not measured)`);
    await runPhase(fleet, config.rate, config.warmup, config.drain, 60);
    await waitQuiet(fleet.recorder, 300, 5000);
  }
  progress(`${label}: publishing ${config.rate} msg/s for ${config.duration} s to ${fleet.recorder.subscribers.length} subscribers`);
  const rss = new RssSampler(target.pid);
  const outcome = await runPhase(fleet, config.rate, config.duration, config.drain, 5);
  const rssPeak = rss.stop();
  fleet.publishers.close();
  const subscribers = fleet.recorder.subscribers.length;
  progress(
    `${label}: ${outcome.delivered} deliveries, ${outcome.lost} lost, p99 ${outcome.latency.p99} ms, ` +
      `server CPU ${outcome.server.cpuSeconds} s → ${perCpuSecond(outcome.delivered, outcome.server)} deliveries per CPU-second`,
  );
  return {
    scenario: 'a',
    subscribers,
    connectFailures: failures,
    publishers: fleet.publishers.clients.length,
    rate: config.rate,
    duration: config.duration,
    ...figuresOf(outcome),
    rssBaselineBytes: rssBaseline,
    rssConnectedBytes: rssConnected,
    rssPeakBytes: rssPeak,
    rssPerConnectionBytes: Math.round((rssConnected - rssBaseline) / Math.max(1, subscribers)),
  };
}

/** (b) busy room: the rate stepped up until p99 exceeds the limit or a message is lost. */
export async function runSteps(target: Target, config: StepsConfig): Promise<StepsResult> {
  const label = `[b] ${target.id}`;
  const { fleet, failures, rssBaseline } = await setUp(target, config.subscribers, label);
  const rss = new RssSampler(target.pid);
  const steps: StepResult[] = [];
  let maxSustainedRate = 0;
  let firstFailure: StepResult | undefined;

  const tryRate = async (rate: number): Promise<StepResult> => {
    await fleet.publishers.ensure(rate);
    await waitQuiet(fleet.recorder, 300, 10_000);
    const outcome = await runPhase(fleet, rate, config.stepDuration, config.drain, 60);
    const reasons: string[] = [];
    if (outcome.lost > 0) reasons.push(`${outcome.lost.toLocaleString('en-US')} not received within the ${config.drain} s drain`);
    if (outcome.closed > 0) reasons.push(`${outcome.closed} subscribers disconnected`);
    if (outcome.publishErrors > 0) reasons.push(`${outcome.publishErrors} publish errors`);
    if (outcome.latency.p99 > config.p99LimitMs) reasons.push(`p99 ${outcome.latency.p99} ms > ${config.p99LimitMs} ms`);
    if (outcome.achievedRate < rate * 0.97) reasons.push(`load generator published only ${outcome.achievedRate} msg/s`);
    const step: StepResult = {
      rate,
      achievedRate: outcome.achievedRate,
      ...figuresOf(outcome),
      passed: reasons.length === 0,
      ...(reasons.length ? { reason: reasons.join(', ') } : {}),
    };
    steps.push(step);
    progress(
      `${label}: ${rate} msg/s → ${step.passed ? 'pass' : `FAIL (${step.reason})`}: p99 ${step.latency.p99} ms, ` +
        `server CPU ${(step.server.utilization * 100).toFixed(0)}%, load generator CPU ${(step.load.utilization * 100).toFixed(0)}%`,
    );
    return step;
  };

  for (const rate of config.rates) {
    const step = await tryRate(rate);
    if (step.passed) {
      maxSustainedRate = rate;
      continue;
    }
    firstFailure = step;
    break;
  }
  if (firstFailure && config.refine && maxSustainedRate > 0 && fleet.closed() === 0) {
    const middle = Math.round((maxSustainedRate + firstFailure.rate) / 2);
    if (middle > maxSustainedRate && middle < firstFailure.rate) {
      const step = await tryRate(middle);
      if (step.passed) maxSustainedRate = middle;
    }
  }
  fleet.publishers.close();
  return {
    scenario: 'b',
    subscribers: fleet.recorder.subscribers.length,
    connectFailures: failures,
    steps,
    maxSustainedRate,
    ladderTopReached: firstFailure === undefined,
    limitedByLoad: firstFailure !== undefined && firstFailure.load.saturated,
    rssBaselineBytes: rssBaseline,
    rssPeakBytes: rss.stop(),
  };
}
