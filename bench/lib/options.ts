/**
 * Command-line options of `npm run bench` and the load of each scenario,
 * full or `--quick`.
 */
import { SCENARIO_IDS, SERVER_IDS, type ScenarioConfigs, type ScenarioId, type ServerId } from './types.js';

export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioId[];
  servers: ServerId[];
  /** Directory for benchmarks.md, benchmarks.json and benchmarks.svg. */
  outDir: string;
  /** Pin servers and the load generator to cores with taskset (when it exists and there are 2+ cores). */
  pin: boolean;
  /** Seconds between a server being ready and the load starting (start-up work must not be measured). */
  serverSettle: number;
  /** When set, Parley's processes write V8 CPU profiles here (see bench/profile-top.ts). */
  cpuProfileDir: string | undefined;
  /**
   * Rounds of (a) and (d): every server is measured once per round, servers
   * interleaved, and the median round is reported, so a slow minute of the
   * machine does not decide a ratio.
   */
  rounds: number;
  /** Re-render the report from this benchmarks.json instead of running anything. */
  fromJson: string | undefined;
  configs: ScenarioConfigs;
}

export const USAGE = `Usage: npm run bench -- [options]
  --quick               small loads and short durations (what the smoke test runs)
  --scenario a,b,...    scenarios to run (default: all of ${SCENARIO_IDS.join(',')})
  --servers s1,s2,...   servers to compare (default: all of ${SERVER_IDS.join(',')}; go only when a Go toolchain exists)
  --duration SECONDS    measured publishing time of (a) (per round) and (e)
  --rounds N            rounds of (a), (d) and (f), servers (crowds) interleaved, median reported (default 3; 1 with --quick)
  --subscribers N       subscribers of (a) and (b)
  --idle N[,M]          idle connection counts of (c)
  --connects N          connections of the storm (d)
  --crowd N             clients of the crowd (f)
  --out DIR             where benchmarks.md/.json/.svg are written (default: docs)
  --cpu-prof DIR        Parley writes a V8 CPU profile per run into DIR (summarize: node --import tsx bench/profile-top.ts DIR/*.cpuprofile)
  --no-pin              do not pin processes to cores
  --from-json FILE      only re-render benchmarks.md/.svg (into --out) from an earlier benchmarks.json
`;

/** Rates tried in (b), each about 1.4× the one before. */
const FULL_RATES = [100, 200, 300, 500, 700, 1000, 1400, 2000, 2800, 4000, 5600, 8000, 11000, 16000, 22000];

export function defaultConfigs(quick: boolean): ScenarioConfigs {
  if (quick) {
    return {
      a: { subscribers: 20, rate: 20, duration: 2, warmup: 0, drain: 2, settle: 0.2 },
      b: { subscribers: 20, rates: [50, 100], stepDuration: 1, drain: 2, p99LimitMs: 100, refine: false },
      c: { counts: [200], settle: 0.5, idle: 0.5, drain: 5 },
      d: { connections: 100, concurrency: 20 },
      e: { rooms: 2, subscribersPerRoom: 10, publishers: 2, window: 4, duration: 2, drain: 3 },
      f: { connections: 300, concurrency: 50, rate: 10, settle: 0.5, drain: 3 },
    };
  }
  return {
    a: { subscribers: 1000, rate: 50, duration: 10, warmup: 3, drain: 3, settle: 1 },
    b: { subscribers: 200, rates: FULL_RATES, stepDuration: 5, drain: 3, p99LimitMs: 100, refine: true },
    c: { counts: [10_000, 50_000], settle: 20, idle: 40, drain: 10 },
    d: { connections: 5000, concurrency: 200 },
    e: { rooms: 100, subscribersPerRoom: 10, publishers: 20, window: 64, duration: 10, drain: 5 },
    f: { connections: 10_000, concurrency: 200, rate: 2, settle: 20, drain: 10 },
  };
}

export class UsageError extends Error {}

function list<T extends string>(value: string, allowed: readonly T[], name: string): T[] {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`unknown ${name} "${item}" (known: ${allowed.join(', ')})`);
  }
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`);
  return allowed.filter((item) => items.includes(item));
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number (got "${value}")`);
  return n;
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    quick,
    scenarios: [...SCENARIO_IDS],
    servers: [...SERVER_IDS],
    outDir: 'docs',
    pin: true,
    serverSettle: quick ? 0.3 : 1,
    cpuProfileDir: undefined,
    rounds: quick ? 1 : 3,
    fromJson: undefined,
    configs: defaultConfigs(quick),
  };
  const { configs } = options;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--quick':
        break;
      case '--help':
      case '-h':
        return 'help';
      case '--scenario':
      case '--scenarios':
        options.scenarios = list(value(), SCENARIO_IDS, 'scenario');
        break;
      case '--servers':
      case '--server':
        options.servers = list(value(), SERVER_IDS, 'server');
        break;
      case '--duration': {
        const seconds = positive(value(), flag);
        configs.a.duration = seconds;
        configs.e.duration = seconds;
        break;
      }
      case '--subscribers': {
        const n = Math.round(positive(value(), flag));
        configs.a.subscribers = n;
        configs.b.subscribers = n;
        break;
      }
      case '--idle':
        configs.c.counts = value().split(',').map((item) => Math.round(positive(item, flag)));
        break;
      case '--connects':
        configs.d.connections = Math.round(positive(value(), flag));
        break;
      case '--crowd':
        configs.f.connections = Math.round(positive(value(), flag));
        break;
      case '--out':
        options.outDir = value();
        break;
      case '--from-json':
        options.fromJson = value();
        break;
      case '--rounds':
        options.rounds = Math.round(positive(value(), flag));
        break;
      case '--cpu-prof':
        options.cpuProfileDir = value();
        break;
      case '--no-pin':
        options.pin = false;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  return options;
}
