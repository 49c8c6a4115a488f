/**
 * The benchmark (`npm run bench`) end to end on a tiny load, so it cannot
 * rot: the real orchestrator starts every server that needs no extra
 * toolchain, runs every scenario and writes its report into a temporary
 * directory. Only facts are checked (messages counted, none lost at a low
 * rate, memory read), never timings.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import type { BenchReport } from '../bench/lib/report.js';
import type { CrowdPair, DurableResult, FanoutResult, IdleResult, StepsResult, StormResult } from '../bench/lib/types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = import.meta.resolve('tsx');
const SERVERS = ['parley', 'parley-ws', 'seed-ws', 'socketio'] as const;

const outDir = mkdtempSync(join(tmpdir(), 'parley-bench-smoke-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'bench', 'run.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('npm run bench -- --quick measures every server in every scenario', { timeout: 240_000 }, async () => {
  const run = await runBench(['--quick', '--servers', SERVERS.join(','), '--out', outDir]);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /== \(a\) one big room/, 'progress is shown while it runs');

  const report = JSON.parse(readFileSync(join(outDir, 'benchmarks.json'), 'utf8')) as BenchReport;
  assert.equal(report.quick, true);
  assert.deepEqual(report.servers.map((server) => server.id), [...SERVERS]);
  assert.deepEqual(report.scenarios, ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.ok(report.machine.cores >= 1 && report.machine.node === process.version);

  for (const id of SERVERS) {
    const a = report.results.a?.[id] as FanoutResult;
    assert.equal(a?.scenario, 'a', `${id}: (a) ran: ${JSON.stringify(report.results.a?.[id])}`);
    assert.equal(a.subscribers, report.configs.a.subscribers, `${id}: every subscriber connected`);
    assert.ok(a.sent > 0 && a.delivered > 0, `${id}: deliveries counted`);
    assert.equal(a.delivered, a.sent * a.subscribers, `${id}: every message reached every subscriber`);
    assert.equal(a.lost, 0, `${id}: nothing lost at a low rate`);
    assert.equal(a.duplicates, 0, `${id}: nothing delivered twice`);
    assert.equal(a.latency.count, a.delivered, `${id}: every delivery timed`);
    assert.ok(a.rssConnectedBytes > 0 && a.rssPeakBytes > 0, `${id}: server memory read`);
    assert.ok(a.server.cpuSeconds >= 0 && a.server.wallSeconds > 0, `${id}: server CPU read`);

    const b = report.results.b?.[id] as StepsResult;
    assert.equal(b?.scenario, 'b', `${id}: (b) ran: ${JSON.stringify(report.results.b?.[id])}`);
    assert.ok(b.steps.length >= 1);
    const first = b.steps[0]!;
    assert.equal(first.rate, report.configs.b.rates[0]);
    assert.ok(first.delivered > 0, `${id}: (b) deliveries counted`);
    assert.equal(first.lost, 0, `${id}: (b) nothing lost at the lowest rate`);

    const c = report.results.c?.[id] as IdleResult;
    assert.equal(c?.scenario, 'c', `${id}: (c) ran: ${JSON.stringify(report.results.c?.[id])}`);
    const idle = c.counts[0]!;
    assert.equal(idle.connected, report.configs.c.counts[0], `${id}: every idle client connected`);
    assert.equal(idle.stillOpen, idle.connected, `${id}: idle clients stayed connected`);
    assert.equal(idle.probeDelivered, idle.connected, `${id}: every idle client got the probe`);
    assert.equal(idle.probeLost, 0);
    assert.ok(idle.rssBaselineBytes > 0 && idle.rssConnectedBytes > 0, `${id}: server memory read`);

    const d = report.results.d?.[id] as StormResult;
    assert.equal(d?.scenario, 'd', `${id}: (d) ran: ${JSON.stringify(report.results.d?.[id])}`);
    assert.equal(d.completed, report.configs.d.connections, `${id}: every storm connection ready`);
    assert.equal(d.failures, 0);
  }

  const e = report.results.e?.parley as DurableResult;
  assert.equal(e?.scenario, 'e', `(e) ran: ${JSON.stringify(report.results.e?.parley)}`);
  assert.ok(e.acknowledged > 0, 'durable publications acknowledged');
  assert.equal(e.errors, 0);
  assert.equal(e.lost, 0, 'every acknowledged publication delivered to its room');
  assert.equal(e.delivered, e.acknowledged * e.subscribersPerRoom);
  assert.equal(e.storedOffsets, e.acknowledged, 'every acknowledged publication is stored');
  for (const id of ['parley-ws', 'seed-ws', 'socketio'] as const) {
    assert.ok(report.results.e?.[id] && 'skipped' in report.results.e[id], `${id}: (e) is not applicable`);
  }

  const f = report.results.f?.parley as CrowdPair;
  assert.equal(f?.scenario, 'f', `(f) ran: ${JSON.stringify(report.results.f?.parley)}`);
  for (const run of [f.plain, f.presence]) {
    const kind = run.presence ? 'with presence' : 'without presence';
    assert.equal(run.completed, report.configs.f.connections, `(f) ${kind}: every client connected`);
    assert.equal(run.dropped, 0, `(f) ${kind}: no client dropped`);
    assert.ok(run.published > 0, `(f) ${kind}: messages published during the storm`);
    assert.equal(run.lost, 0, `(f) ${kind}: no publication lost`);
    assert.ok(run.rssSettledBytes > 0, `(f) ${kind}: server memory read`);
  }
  assert.equal(f.plain.joinPushes, 0, '(f) no join pushes without presence');
  assert.ok(f.presence.joinPushes > 0, '(f) the first clients of the room saw joins');
  assert.ok(f.presence.maxJoinPushesPerClient <= 100, '(f) join pushes per client bounded by joinLeaveMaxClients');
  assert.ok(report.configs.f.connections > 100, '(f) the quick crowd is bigger than the join/leave limit');
  for (const id of ['parley-ws', 'seed-ws', 'socketio'] as const) {
    assert.ok(report.results.f?.[id] && 'skipped' in report.results.f[id], `${id}: (f) is not applicable`);
  }

  assert.ok(report.targets.length > 0, 'targets checked');
  const markdown = readFileSync(join(outDir, 'benchmarks.md'), 'utf8');
  for (const heading of ['## (a)', '## (b)', '## (c)', '## (d)', '## (e)', '## (f)', '## Targets', '## How to read this']) {
    assert.ok(markdown.includes(heading), `report has ${heading}`);
  }
  for (const server of report.servers) assert.ok(markdown.includes(server.title), `report names ${server.title}`);
  assert.ok(markdown.includes('](benchmarks.svg)'), 'report shows the chart');
  assert.match(readFileSync(join(outDir, 'benchmarks.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(!existsSync(join(outDir, 'docs')), 'nothing written outside --out');
});

test('npm run bench rejects unknown options without running anything', async () => {
  const run = await runBench(['--servers', 'nope']);
  assert.equal(run.code, 2);
  assert.match(run.output, /unknown server "nope"/);
});
