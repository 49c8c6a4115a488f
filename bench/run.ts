/**
 * `npm run bench`: starts every server it compares, one after another, each
 * pinned to its own core; runs each scenario against it from a load
 * generator pinned to another core; writes docs/benchmarks.{json,md,svg}.
 * `npm run bench -- --help` lists the options.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoServer, ensureParleyBuilt, goVersion, transpileBench } from './lib/build.js';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './lib/options.js';
import { availableCores, machineInfo } from './lib/proc.js';
import { renderChart } from './lib/chart.js';
import { renderMarkdown } from './lib/markdown.js';
import type { BenchReport, Outcome } from './lib/report.js';
import { checkTargets } from './lib/targets.js';
import { RunningServer, SERVERS, spawnPinned, startServer } from './lib/servers.js';
import type {
  CrowdPair,
  CrowdResult,
  CrowdRun,
  LoadMessage,
  LoadRequest,
  LoadResult,
  ScenarioConfigs,
  ScenarioId,
  ScenarioResult,
  ServerId,
} from './lib/types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const startedAt = performance.now();

const SCENARIO_TITLES: Record<ScenarioId, string> = {
  a: 'one big room',
  b: 'busy room, rate stepped up',
  c: 'idle connections',
  d: 'connect storm',
  e: 'durable publications',
  f: 'a crowd in one room, with and without presence',
};

/** Scenarios measured in interleaved rounds (see BenchOptions.rounds). */
const ROUNDED: ReadonlySet<ScenarioId> = new Set(['a', 'd', 'f']);

/** The crowd of (f) with the median connect time, of one kind. */
function medianCrowd(list: CrowdRun[]): CrowdRun {
  return [...list].sort((x, y) => x.seconds - y.seconds)[Math.floor((list.length - 1) / 2)]!;
}

function isCrowd(result: LoadResult): result is CrowdResult {
  return result.scenario === 'f';
}

/** Both crowds of (f) side by side, each its median round. */
function crowdPair(list: CrowdResult[]): CrowdPair {
  const plain = list.filter((result) => !result.run.presence).map((result) => result.run);
  const presence = list.filter((result) => result.run.presence).map((result) => result.run);
  if (plain.length === 0 || presence.length === 0) throw new Error('(f) needs both crowds to have run');
  return {
    scenario: 'f',
    plain: medianCrowd(plain),
    presence: medianCrowd(presence),
    ...(list.length > 2 ? { plainRounds: plain.map((run) => run.seconds), presenceRounds: presence.map((run) => run.seconds) } : {}),
    measuredAt: new Date().toISOString(),
  };
}

function keyMetric(result: ScenarioResult): number {
  if (result.scenario === 'a') return result.deliveriesPerCpuSecond;
  if (result.scenario === 'd') return result.connectsPerSecond;
  return 0;
}

/** The round with the median key metric, carrying every round's key metric. */
function median(list: ScenarioResult[]): ScenarioResult {
  if (list.length === 1) return list[0]!;
  const sorted = [...list].sort((x, y) => keyMetric(x) - keyMetric(y));
  const chosen = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...chosen, rounds: list.map(keyMetric) } as ScenarioResult;
}

/** A run that takes longer than this is stopped and reported as failed. */
const RUN_TIMEOUT_MS = 15 * 60_000;

function log(text: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${seconds}s] ${text}\n`);
}

function commandExists(command: string): boolean {
  try {
    execFileSync('bash', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function filesystemOf(path: string): string | null {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** Children to stop if the benchmark is interrupted. */
const running = new Set<{ kill(): void }>();

async function runOne(
  scenario: ScenarioId,
  id: ServerId,
  options: BenchOptions,
  context: { jsDir: string; goBinary?: string; serverCore: number | undefined; loadCore: number | undefined },
  config: ScenarioConfigs[ScenarioId] = options.configs[scenario],
): Promise<LoadResult> {
  const server: RunningServer = await startServer(id, {
    root,
    jsDir: context.jsDir,
    ...(context.goBinary ? { goBinary: context.goBinary } : {}),
    ...(options.cpuProfileDir ? { cpuProfileDir: resolve(options.cpuProfileDir) } : {}),
    core: context.serverCore,
  });
  const handle = { kill: () => server.child.kill('SIGKILL') };
  running.add(handle);
  try {
    // Let start-up work (module loading, JIT, first GC) finish before anything is measured.
    await new Promise((resolve) => setTimeout(resolve, options.serverSettle * 1000));
    const load = spawnPinned([process.execPath, join(context.jsDir, 'load', 'main.js')], context.loadCore, { cwd: root, ipc: true });
    const loadHandle = { kill: () => load.kill('SIGKILL') };
    running.add(loadHandle);
    const request = { type: 'run', scenario, target: server.target, config } as LoadRequest;
    try {
      return await new Promise<LoadResult>((resolve, reject) => {
        let settled = false;
        const timer = setTimeout(() => {
          settle(() => reject(new Error(`no result after ${RUN_TIMEOUT_MS / 60_000} min`)));
          load.kill('SIGKILL');
        }, RUN_TIMEOUT_MS);
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          fn();
        };
        load.on('message', (message: LoadMessage) => {
          if (message.type === 'progress') log(message.text);
          else if (message.type === 'result') settle(() => resolve(message.result));
          else settle(() => reject(new Error(message.message)));
        });
        load.once('exit', (code) => {
          settle(() =>
            reject(
              new Error(
                `the load generator exited (${code}) without a result` +
                  (server.hasExited ? `; the server had exited:\n${server.lastOutput}` : ''),
              ),
            ),
          );
        });
        load.once('spawn', () => load.send(request));
      });
    } finally {
      if (load.exitCode === null && load.signalCode === null) {
        const exited = new Promise((resolve) => load.once('exit', resolve));
        const timer = setTimeout(() => load.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(loadHandle);
      if (server.hasExited) throw new Error(`${id} exited during the run:\n${server.lastOutput}`);
    }
  } finally {
    await server.stop();
    running.delete(handle);
  }
}

/** Checks the targets and writes benchmarks.json, .md and .svg into `dir`. */
function writeReport(report: BenchReport, dir: string): void {
  report.targets = checkTargets(report);
  const outDir = resolve(dir);
  mkdirSync(outDir, { recursive: true });
  const chart = renderChart(report);
  if (chart) writeFileSync(join(outDir, 'benchmarks.svg'), chart);
  writeFileSync(join(outDir, 'benchmarks.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'benchmarks.md'), renderMarkdown(report, chart ? 'benchmarks.svg' : undefined));
  log(`wrote ${relative(process.cwd(), join(outDir, 'benchmarks.md')) || 'benchmarks.md'} (and .json${chart ? ', .svg' : ''})`);
  for (const check of report.targets) {
    log(`target ${check.status === 'met' ? 'met   ' : check.status === 'missed' ? 'MISSED' : 'n/a   '} ${check.description}: ${check.measured} (needs ${check.required})`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = parsed;
  if (options.fromJson) {
    writeReport(JSON.parse(readFileSync(options.fromJson, 'utf8')) as BenchReport, options.outDir);
    return 0;
  }
  const cores = availableCores();
  const taskset = commandExists('taskset');
  const pin = options.pin && taskset && cores >= 2;
  const serverCore = pin ? 1 : undefined;
  const loadCore = pin ? 0 : undefined;
  const machine = machineInfo();
  if (pin) {
    // The orchestrator (and its threads) stays off the server's core too.
    execFileSync('taskset', ['-a', '-p', '-c', String(loadCore), String(process.pid)], { stdio: 'ignore' });
  }
  log(
    `bench: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; ` +
      (pin ? `server on core ${serverCore}, load generator on core ${loadCore}` : `no pinning (${taskset ? 'single core or --no-pin' : 'taskset not found'})`) +
      (options.quick ? '; --quick' : ''),
  );

  const wantsParley = options.servers.some((id) => id === 'parley' || id === 'parley-ws');
  if (wantsParley) ensureParleyBuilt(root, log);
  const jsDir = transpileBench(root);
  const skippedServers = new Map<ServerId, string>();
  let goBinary: string | undefined;
  if (options.servers.includes('go')) {
    const built = buildGoServer(root);
    if ('binary' in built) goBinary = built.binary;
    else {
      skippedServers.set('go', built.skipped);
      log(`go: skipped: ${built.skipped}`);
    }
  }
  const servers = options.servers.filter((id) => !skippedServers.has(id));

  const results: BenchReport['results'] = {};
  let failures = 0;
  for (const scenario of options.scenarios) {
    log(`== (${scenario}) ${SCENARIO_TITLES[scenario]}`);
    const outcomes: Partial<Record<ServerId, Outcome>> = {};
    results[scenario] = outcomes;
    const rounds = ROUNDED.has(scenario) ? options.rounds : 1;
    const collected = new Map<ServerId, LoadResult[]>();
    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) log(`-- (${scenario}) round ${round}/${rounds}`);
      for (const id of servers) {
        if (outcomes[id]) continue; // skipped or failed in an earlier round
        if (scenario === 'e' && !SERVERS[id].durable) {
          outcomes[id] = { skipped: 'no acknowledged, durable publish' };
          continue;
        }
        if (scenario === 'f' && id !== 'parley') {
          outcomes[id] = { skipped: 'no presence or join/leave events' };
          continue;
        }
        const context = { jsDir, ...(goBinary ? { goBinary } : {}), serverCore, loadCore };
        try {
          // (f): the crowd without presence, then with, each on a fresh server, in every round.
          const variants = scenario === 'f' ? [false, true].map((presence) => ({ ...options.configs.f, presence })) : [options.configs[scenario]];
          for (const config of variants) {
            const result = await runOne(scenario, id, options, context, config);
            collected.set(id, [...(collected.get(id) ?? []), result]);
          }
        } catch (error) {
          failures++;
          const message = error instanceof Error ? error.message : String(error);
          outcomes[id] = { error: message };
          log(`(${scenario}) ${id}: FAILED: ${message}`);
        }
      }
    }
    for (const [id, list] of collected) {
      if (outcomes[id]) continue;
      try {
        outcomes[id] = scenario === 'f' ? crowdPair(list.filter(isCrowd)) : median(list.filter((result) => !isCrowd(result)) as ScenarioResult[]);
      } catch (error) {
        failures++;
        outcomes[id] = { error: error instanceof Error ? error.message : String(error) };
      }
    }
  }

  if (goBinary) rmSync(dirname(goBinary), { recursive: true, force: true });
  const go = goVersion();
  const report: BenchReport = {
    version: 1,
    machine: {
      ...machine,
      taskset,
      serverCore: serverCore ?? null,
      loadCore: loadCore ?? null,
      go: go ?? null,
      tmpFilesystem: filesystemOf(process.env.TMPDIR ?? '/tmp'),
    },
    quick: options.quick,
    configs: options.configs,
    rounds: options.rounds,
    servers: options.servers.map((id) => ({
      id,
      title: SERVERS[id].title,
      description: SERVERS[id].description,
      ...(skippedServers.has(id) ? { skipped: skippedServers.get(id) as string } : {}),
    })),
    scenarios: options.scenarios,
    durationSeconds: Math.round((performance.now() - startedAt) / 1000),
    results,
    targets: [],
  };
  writeReport(report, options.outDir);
  return failures > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of running) child.kill();
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    for (const child of running) child.kill();
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
