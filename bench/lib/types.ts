/**
 * Shapes shared by the orchestrator (`bench/run.ts`) and the load generator
 * (`bench/load/main.ts`), which talk over a Node IPC channel in JSON.
 */

/** The servers the benchmark knows, in report order. */
export const SERVER_IDS = ['parley', 'parley-ws', 'seed-ws', 'socketio', 'go'] as const;
export type ServerId = (typeof SERVER_IDS)[number];

export const SCENARIO_IDS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** Wire protocols the load generator speaks, all over raw `ws` clients. */
export type Protocol = 'centrifuge' | 'seed' | 'socketio';

/** What the load generator needs to know about the server under test. */
export interface Target {
  id: ServerId;
  protocol: Protocol;
  /** WebSocket URL clients open. */
  url: string;
  /** The server's process id, whose CPU and memory are read from /proc. */
  pid: number;
  /** Messages per second one connection may publish (Parley's `/ws` rate-limits each connection); null for no limit. */
  maxPublishRatePerConnection: number | null;
  /** Centrifuge protocol only: HS256 secret for connection tokens. */
  tokenSecret?: string;
  /** Centrifuge protocol only: channel of the fan-out scenarios (a namespace without history). */
  channel?: string;
  /** Centrifuge protocol only: namespace with history, for the durable scenario. */
  durableNamespace?: string;
  /**
   * Centrifuge protocol only, for the crowd (f): a chat room (presence and
   * join/leave on, history) and a channel with the same options but no
   * presence and no join/leave.
   */
  crowdChannels?: { presence: string; plain: string };
  /** Centrifuge protocol only: server HTTP API, for checking what was stored. */
  apiUrl?: string;
  apiKey?: string;
}

/** (a) one big room at a fixed rate. */
export interface FanoutConfig {
  subscribers: number;
  /** Messages per second. */
  rate: number;
  /** Seconds of measured publishing. */
  duration: number;
  /** Seconds of unmeasured publishing first (JIT warm-up), 0 for none. */
  warmup: number;
  /** Seconds to wait after the last publish for the last deliveries. */
  drain: number;
  /** Seconds to wait after connecting, before memory is read and publishing starts. */
  settle: number;
}

/** (b) busy room: the rate stepped up until the server falls behind. */
export interface StepsConfig {
  subscribers: number;
  /** Rates to try, ascending. */
  rates: number[];
  /** Seconds per step. */
  stepDuration: number;
  drain: number;
  /** A step passes with p99 at or under this and nothing lost. */
  p99LimitMs: number;
  /** After the first failing step, try once between it and the last passing one. */
  refine: boolean;
}

/** (c) idle connections. */
export interface IdleConfig {
  /** Connection counts to try in turn, e.g. [10000, 50000]; larger ones are skipped when limits forbid. */
  counts: number[];
  /** Seconds to wait after connecting before the idle window (the connect burst's garbage is the runtime's to collect). */
  settle: number;
  /** Seconds of the idle window: RSS is sampled every second and idle CPU measured. */
  idle: number;
  drain: number;
}

/** (d) connect storm. */
export interface StormConfig {
  connections: number;
  /** Handshakes in flight at once. */
  concurrency: number;
}

/** (e) durable publications. */
export interface DurableConfig {
  rooms: number;
  subscribersPerRoom: number;
  publishers: number;
  /** Publishes in flight per publisher connection. */
  window: number;
  duration: number;
  drain: number;
}

/** (f) a crowd storming into one room, with and without presence. */
export interface CrowdConfig {
  connections: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Messages per second published into the room from before the storm until the drain. */
  rate: number;
  /** Seconds after the last client connected during which RSS is sampled (publishing goes on). */
  settle: number;
  /** Seconds to wait for the last deliveries after publishing stops. */
  drain: number;
  /** Which crowd this run is: set by the orchestrator, one run each. */
  presence?: boolean;
}

export interface ScenarioConfigs {
  a: FanoutConfig;
  b: StepsConfig;
  c: IdleConfig;
  d: StormConfig;
  e: DurableConfig;
  f: CrowdConfig;
}

/** Orchestrator → load generator. */
export type LoadRequest = { [S in ScenarioId]: { type: 'run'; scenario: S; target: Target; config: ScenarioConfigs[S] } }[ScenarioId];

/** What a load generator run yields: the result of its scenario ((f) yields one crowd, paired by the orchestrator). */
export type LoadResult = Exclude<ScenarioResult, CrowdPair> | CrowdResult;

/** Load generator → orchestrator. */
export type LoadMessage =
  | { type: 'progress'; text: string }
  | { type: 'result'; result: LoadResult }
  | { type: 'error'; message: string };

/** Latency summary in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** CPU and memory of one process over a window, from /proc. */
export interface ProcessUsage {
  /** user + system CPU seconds in the window. */
  cpuSeconds: number;
  /** The part spent in user space (the program itself). */
  userSeconds: number;
  /** The part spent in the kernel on the process's behalf (system calls: socket reads and writes, fsync). */
  systemSeconds: number;
  /** Wall seconds of the window. */
  wallSeconds: number;
  /** cpuSeconds / wallSeconds (1 = one core fully busy). */
  utilization: number;
}

/** Load generator health: a busy load generator makes latencies a bound, not a measurement. */
export interface LoadHealth {
  /** The load generator's own CPU utilization in the window (1 = its core fully busy). */
  utilization: number;
  /** Largest delay between when a message was due and when it was sent, ms. */
  maxSendLagMs: number;
  /** True when the load generator was near saturation: the server may not be the bottleneck. */
  saturated: boolean;
}

/** Scenarios run in interleaved rounds report their median round, with every round's key metric. */
export interface Rounds {
  /** The key metric (deliveries per CPU-second, connects per second) of each round, in run order. */
  rounds?: number[];
}

/** What one measured publishing phase yields, in (a) and in every step of (b). */
export interface PhaseFigures {
  sent: number;
  /** Deliveries counted at subscribers (one message to one subscriber is one delivery). */
  delivered: number;
  expected: number;
  lost: number;
  duplicates: number;
  /** Subscribers whose connection closed during the run. */
  closed: number;
  deliveriesPerSecond: number;
  latency: LatencySummary;
  server: ProcessUsage;
  deliveriesPerCpuSecond: number;
  load: LoadHealth;
}

export interface FanoutResult extends Rounds, PhaseFigures {
  scenario: 'a';
  subscribers: number;
  connectFailures: number;
  publishers: number;
  rate: number;
  duration: number;
  rssBaselineBytes: number;
  rssConnectedBytes: number;
  rssPeakBytes: number;
  rssPerConnectionBytes: number;
}

export interface StepResult extends PhaseFigures {
  rate: number;
  /** Messages per second the load generator actually published. */
  achievedRate: number;
  passed: boolean;
  /** Why the step failed, if it did. */
  reason?: string;
}

export interface StepsResult {
  scenario: 'b';
  subscribers: number;
  connectFailures: number;
  steps: StepResult[];
  /** Highest rate that passed, 0 when none did. */
  maxSustainedRate: number;
  /** True when the highest step tried passed: the server may sustain more. */
  ladderTopReached: boolean;
  /** True when the load generator was saturated at the first failing step: the limit may be (also) the load generator's. */
  limitedByLoad: boolean;
  rssBaselineBytes: number;
  rssPeakBytes: number;
}

export interface IdleCount {
  requested: number;
  /** Why this count was not run, if it was not. */
  skipped?: string;
  connected: number;
  connectFailures: number;
  connectSeconds: number;
  rssBaselineBytes: number;
  /** RSS right after the last client connected (before settling). */
  rssConnectedBytes: number;
  /** Mean and highest of the RSS samples taken every second over the idle window. */
  rssIdleMeanBytes: number;
  rssIdleMaxBytes: number;
  /** (mean idle RSS − RSS before connecting) / connected: what holding a connection costs. */
  rssPerConnectionBytes: number;
  /** The same from the highest idle sample, and from right after connecting. */
  rssPerConnectionPeakBytes: number;
  rssPerConnectionJustConnectedBytes: number;
  /** Server CPU utilization while the connections sat idle (pings, timers). */
  idleUtilization: number;
  /** Connections still open after the idle period. */
  stillOpen: number;
  /** One message published after measuring: how many of the idle clients got it. */
  probeDelivered: number;
  probeLost: number;
  /** Source addresses the clients were spread over. */
  sourceAddresses: number;
}

export interface IdleResult {
  scenario: 'c';
  counts: IdleCount[];
}

export interface StormResult extends Rounds {
  scenario: 'd';
  connections: number;
  concurrency: number;
  completed: number;
  failures: number;
  seconds: number;
  connectsPerSecond: number;
  /** Time from starting a connection to being ready (authenticated and subscribed where the protocol has it). */
  handshake: LatencySummary;
  server: ProcessUsage;
  load: LoadHealth;
  /** What "ready" means for this protocol. */
  ready: string;
}

export interface DurableResult {
  scenario: 'e';
  rooms: number;
  subscribersPerRoom: number;
  publishers: number;
  window: number;
  duration: number;
  acknowledged: number;
  errors: number;
  acknowledgedPerSecond: number;
  /** Publish → reply (acknowledged after durable). */
  ack: LatencySummary;
  /** Publish → delivery at a subscriber. */
  latency: LatencySummary;
  delivered: number;
  expected: number;
  lost: number;
  duplicates: number;
  closed: number;
  /** Sum of the rooms' stream offsets read back through the server API (equals `acknowledged` when every acknowledged publication is stored). */
  storedOffsets: number | null;
  server: ProcessUsage;
  load: LoadHealth;
}

/** One crowd of (f): every client connecting to one channel, with messages published meanwhile. */
export interface CrowdRun {
  presence: boolean;
  channel: string;
  connections: number;
  completed: number;
  failures: number;
  /** Seconds from the first connection started to the last ready (connected and subscribed). */
  seconds: number;
  connectsPerSecond: number;
  handshake: LatencySummary;
  rssBaselineBytes: number;
  /** Mean RSS sampled over the settle window after the last client connected. */
  rssSettledBytes: number;
  rssPeakBytes: number;
  /** (settled RSS − RSS before connecting) ÷ clients. */
  rssPerConnectionBytes: number;
  /** Clients whose connection closed before the end (cut off as slow, or any other reason). */
  dropped: number;
  /** Messages published from before the storm to the end of the settle window. */
  published: number;
  /** Publications sent after a client was ready that it never received. */
  lost: number;
  duplicates: number;
  /** Join and leave pushes received over all clients, and the most one client received. */
  joinPushes: number;
  leavePushes: number;
  maxJoinPushesPerClient: number;
  /** Server CPU over the storm. */
  server: ProcessUsage;
  load: LoadHealth;
}

export interface CrowdResult extends Rounds {
  scenario: 'f';
  run: CrowdRun;
}

/** (f) as reported: both crowds of the same run side by side (each the median of its rounds by connect time). */
export interface CrowdPair {
  scenario: 'f';
  plain: CrowdRun;
  presence: CrowdRun;
  /** Connect seconds of each round, in run order. */
  plainRounds?: number[];
  presenceRounds?: number[];
  /** When this pair was measured (it may come from a run of (f) alone merged into a full report). */
  measuredAt: string;
}

export type ScenarioResult = FanoutResult | StepsResult | IdleResult | StormResult | DurableResult | CrowdPair;
