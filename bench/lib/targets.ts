/** The targets of the issue, checked against Parley's numbers of a run. */
import { fmt, kb, ratio, ratioText } from './format.js';
import { resultOf as get, type BenchReport, type TargetCheck } from './report.js';
import type { CrowdPair, DurableResult, FanoutResult, IdleResult, ScenarioId, StepsResult, StormResult } from './types.js';

/** Connect times of (f), and the ratio round by round (the crowds of one round ran a minute apart at most). */
function crowdRoundsNote(crowd: CrowdPair): string {
  const medians = `medians ${fmt(crowd.presence.seconds, 2)} s vs ${fmt(crowd.plain.seconds, 2)} s for ${fmt(crowd.presence.completed)} clients`;
  const { plainRounds, presenceRounds } = crowd;
  if (!plainRounds || !presenceRounds || plainRounds.length !== presenceRounds.length) return medians;
  return `${medians}; round by round: ${presenceRounds.map((p, i) => ratioText(ratio(p, plainRounds[i]))).join(', ')}`;
}

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
  const crowd = has('f') ? get<CrowdPair>(report, 'f', 'parley') : undefined;
  if (has('f')) {
    const slower = ratio(crowd?.presence.seconds, crowd?.plain.seconds);
    add({
      id: 'f-connect', scenario: 'f', description: '(f) crowd connect time with presence and join/leave vs without (same run)',
      measured: ratioText(slower), required: '≤ 2×', value: slower, ok: (v) => v <= 2,
      ...(crowd ? { note: crowdRoundsNote(crowd) } : {}),
    });
    add({
      id: 'f-rss', scenario: 'f', description: '(f) RSS per connection in the crowd with presence',
      measured: crowd ? kb(crowd.presence.rssPerConnectionBytes) : '–', required: '≤ 15 KB', value: crowd?.presence.rssPerConnectionBytes, ok: (v) => v <= 15 * 1024,
      ...(crowd ? { note: `${kb(crowd.plain.rssPerConnectionBytes)} without presence` } : {}),
    });
    const dropped = crowd ? crowd.plain.dropped + crowd.presence.dropped + crowd.plain.failures + crowd.presence.failures : undefined;
    add({
      id: 'f-dropped', scenario: 'f', description: '(f) crowd clients dropped or failed to connect',
      measured: dropped === undefined ? '–' : fmt(dropped), required: '0', value: dropped, ok: (v) => v === 0,
    });
    add({
      id: 'f-joins', scenario: 'f', description: '(f) join pushes per client in the crowd with presence',
      measured: crowd ? `at most ${fmt(crowd.presence.maxJoinPushesPerClient)}` : '–', required: '≤ 100 (joinLeaveMaxClients)',
      value: crowd?.presence.maxJoinPushesPerClient, ok: (v) => v <= 100,
    });
  }
  // No message lost: (a), the passing steps of (b), the probe of (c), (e), both crowds of (f).
  const losses: number[] = [];
  const a = get<FanoutResult>(report, 'a', 'parley');
  if (a) losses.push(a.lost);
  const b = get<StepsResult>(report, 'b', 'parley');
  if (b) losses.push(...b.steps.filter((step) => step.rate <= b.maxSustainedRate).map((step) => step.lost));
  const c = get<IdleResult>(report, 'c', 'parley');
  if (c) losses.push(...c.counts.filter((count) => !count.skipped).map((count) => count.probeLost));
  const e = get<DurableResult>(report, 'e', 'parley');
  if (e) losses.push(e.lost);
  if (crowd) losses.push(crowd.plain.lost, crowd.presence.lost);
  const lost = losses.length ? losses.reduce((x, y) => x + y, 0) : undefined;
  add({
    id: 'no-loss', scenario: 'a', description: 'no message lost in any scenario (Parley native)',
    measured: lost === undefined ? '–' : `${fmt(lost)} lost`, required: '0', value: lost, ok: (v) => v === 0,
  });
  return checks;
}
