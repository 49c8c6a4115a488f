/** The targets of the issue, checked against Parley's numbers of a run. */
import { fmt, kb, ratio, ratioText } from './format.js';
import { resultOf as get, type BenchReport, type TargetCheck } from './report.js';
import type { DurableResult, FanoutResult, IdleResult, ScenarioId, StepsResult, StormResult } from './types.js';

/** The first idle count that ran (10,000 in the full run). */
function mainIdle(result: IdleResult | undefined) {
  return result?.counts.find((count) => !count.skipped);
}

export function checkTargets(report: Pick<BenchReport, 'results' | 'scenarios'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const has = (s: ScenarioId) => report.scenarios.includes(s);
  const add = (check: Omit<TargetCheck, 'status'> & { value: number | undefined; ok: (v: number) => boolean }) => {
    const { value, ok, ...rest } = check;
    checks.push({ ...rest, status: value === undefined ? 'not measured' : ok(value) ? 'met' : 'missed' });
  };

  if (has('a')) {
    const parley = get<FanoutResult>(report, 'a', 'parley');
    const seed = get<FanoutResult>(report, 'a', 'seed-ws');
    const sio = get<FanoutResult>(report, 'a', 'socketio');
    const vsSeed = ratio(parley?.deliveriesPerCpuSecond, seed?.deliveriesPerCpuSecond);
    const vsSio = ratio(parley?.deliveriesPerCpuSecond, sio?.deliveriesPerCpuSecond);
    /** Ratios round by round (servers of one round ran minutes apart at most). */
    const perRound = (other: FanoutResult | undefined) => {
      const mine = parley?.rounds;
      const theirs = other?.rounds;
      if (!mine || !theirs || mine.length < 2 || mine.length !== theirs.length) return {};
      return { note: `ratio of medians; round by round: ${mine.map((m, i) => ratioText(ratio(m, theirs[i]))).join(', ')}` };
    };
    add({
      id: 'a-seed', scenario: 'a', description: '(a) deliveries per server CPU-second vs the seed design',
      measured: ratioText(vsSeed), required: '≥ 1.3×', value: vsSeed, ok: (v) => v >= 1.3, ...perRound(seed),
    });
    add({
      id: 'a-socketio', scenario: 'a', description: '(a) deliveries per server CPU-second vs Socket.IO',
      measured: ratioText(vsSio), required: '≥ 1.5×', value: vsSio, ok: (v) => v >= 1.5, ...perRound(sio),
    });
    add({
      id: 'a-p99', scenario: 'a', description: '(a) end-to-end p99 latency',
      measured: parley ? `${fmt(parley.latency.p99, 1)} ms` : '–', required: '≤ 25 ms', value: parley?.latency.p99, ok: (v) => v <= 25,
      ...(parley?.load.saturated ? { note: 'load generator saturated: latency is an upper bound' } : {}),
    });
  }
  if (has('b')) {
    const parley = get<StepsResult>(report, 'b', 'parley');
    const seed = get<StepsResult>(report, 'b', 'seed-ws');
    const sio = get<StepsResult>(report, 'b', 'socketio');
    const note = (r: StepsResult | undefined) =>
      r?.ladderTopReached
        ? 'Parley passed the highest rate tried: the ratio is a lower bound'
        : r?.limitedByLoad
          ? 'the load generator was saturated at Parley\'s failing step: its rate may be a lower bound'
          : undefined;
    const vsSeed = ratio(parley?.maxSustainedRate, seed?.maxSustainedRate);
    const vsSio = ratio(parley?.maxSustainedRate, sio?.maxSustainedRate);
    const n = note(parley);
    add({
      id: 'b-seed', scenario: 'b', description: '(b) highest sustained rate vs the seed design',
      measured: ratioText(vsSeed), required: '≥ 2×', value: vsSeed, ok: (v) => v >= 2, ...(n ? { note: n } : {}),
    });
    add({
      id: 'b-socketio', scenario: 'b', description: '(b) highest sustained rate vs Socket.IO',
      measured: ratioText(vsSio), required: '≥ 3×', value: vsSio, ok: (v) => v >= 3, ...(n ? { note: n } : {}),
    });
  }
  if (has('c')) {
    const idle = mainIdle(get<IdleResult>(report, 'c', 'parley'));
    add({
      id: 'c-rss', scenario: 'c', description: `(c) RSS per idle connection${idle ? ` (${fmt(idle.connected)} connections)` : ''}`,
      measured: idle ? kb(idle.rssPerConnectionBytes) : '–', required: '≤ 8 KB', value: idle?.rssPerConnectionBytes, ok: (v) => v <= 8 * 1024,
      ...(idle ? { note: `mean over the idle window; ${kb(idle.rssPerConnectionPeakBytes)} at its peak, ${kb(idle.rssPerConnectionJustConnectedBytes)} right after connecting` } : {}),
    });
  }
  if (has('d')) {
    const storm = get<StormResult>(report, 'd', 'parley');
    add({
      id: 'd-connects', scenario: 'd', description: '(d) connects per second (JWT verified, subscribed)',
      measured: storm ? `${fmt(storm.connectsPerSecond)}/s` : '–', required: '≥ 2,000/s', value: storm?.connectsPerSecond, ok: (v) => v >= 2000,
      ...(storm?.load.saturated ? { note: 'load generator saturated: a lower bound' } : {}),
    });
  }
  if (has('e')) {
    const durable = get<DurableResult>(report, 'e', 'parley');
    add({
      id: 'e-durable', scenario: 'e', description: '(e) durable publications per second (acknowledged)',
      measured: durable ? `${fmt(durable.acknowledgedPerSecond)}/s` : '–', required: '≥ 20,000/s', value: durable?.acknowledgedPerSecond, ok: (v) => v >= 20_000,
      ...(durable?.load.saturated ? { note: 'load generator saturated: a lower bound' } : {}),
    });
  }
  // No message lost: (a), the passing steps of (b), the probe of (c), (e).
  const losses: number[] = [];
  const a = get<FanoutResult>(report, 'a', 'parley');
  if (a) losses.push(a.lost);
  const b = get<StepsResult>(report, 'b', 'parley');
  if (b) losses.push(...b.steps.filter((step) => step.rate <= b.maxSustainedRate).map((step) => step.lost));
  const c = get<IdleResult>(report, 'c', 'parley');
  if (c) losses.push(...c.counts.filter((count) => !count.skipped).map((count) => count.probeLost));
  const e = get<DurableResult>(report, 'e', 'parley');
  if (e) losses.push(e.lost);
  const lost = losses.length ? losses.reduce((x, y) => x + y, 0) : undefined;
  add({
    id: 'no-loss', scenario: 'a', description: 'no message lost in any scenario (Parley native)',
    measured: lost === undefined ? '–' : `${fmt(lost)} lost`, required: '0', value: lost, ok: (v) => v === 0,
  });
  return checks;
}
