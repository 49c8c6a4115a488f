import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const RECOVERY_OUTCOMES = ['recovered', 'not_recovered', 'rejected'] as const;
/** How a subscribe that asked to recover missed publications ended. */
export type RecoveryOutcome = (typeof RECOVERY_OUTCOMES)[number];

/** How a backend proxy call ended: the backend's result, error or disconnect, or no usable answer. */
export type ProxyCallOutcome = 'result' | 'error' | 'disconnect' | 'failed';

/** What the connection and subscription gauges read when scraped. */
export interface LoadSource {
  /** Connected sessions on this node. */
  connections(): number;
  /** Client subscriptions on this node, over all channels. */
  subscriptions(): number;
}

/** Latencies from sub-millisecond (one machine) to seconds (a struggling database). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** How finely the event-loop delay is sampled, in milliseconds. */
const EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * The Prometheus metrics of one server, in a registry of its own (two
 * servers in one process do not share counters). The hooks are what the
 * code that sees an event calls; each is a few arithmetic operations, so
 * calling them on hot paths is cheap. No label carries a channel, user or
 * client: label values come from small fixed sets (methods, codes,
 * outcomes, service names), so the series count stays bounded.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly commands: Counter<'method'>;
  private readonly errors: Counter<'code'>;
  private readonly disconnects: Counter<'code'>;
  private readonly publications: Counter;
  private readonly fanOuts: Counter;
  private readonly deliveries: Counter;
  private readonly deltaPatches: Counter;
  private readonly commitSeconds: Histogram;
  private readonly deliverySeconds: Histogram;
  private readonly recoveries: Counter<'outcome'>;
  private readonly serviceSeconds: Histogram<'service'>;
  private readonly serviceFailures: Counter<'service'>;
  private readonly serviceUp: Gauge<'service'>;
  private readonly proxyCalls: Counter<'proxy' | 'outcome'>;
  private readonly proxySeconds: Histogram<'proxy'>;
  /** Children by label value: `labels()` hashes its arguments on every call, a map lookup does not. */
  private readonly children = new Map<Counter<string>, Map<string | number, Counter.Internal>>();
  private loadSource: LoadSource | undefined;
  private eventLoop: IntervalHistogram | undefined;

  constructor() {
    const registers = [this.registry];
    const metrics = this;
    new Gauge({
      name: 'parley_connections',
      help: 'Connected client sessions on this node.',
      registers,
      collect() {
        if (metrics.loadSource) this.set(metrics.loadSource.connections());
      },
    });
    new Gauge({
      name: 'parley_subscriptions',
      help: 'Client channel subscriptions on this node, over all channels.',
      registers,
      collect() {
        if (metrics.loadSource) this.set(metrics.loadSource.subscriptions());
      },
    });
    this.commands = new Counter({ name: 'parley_commands_total', help: 'Client protocol commands received, by method.', labelNames: ['method'], registers });
    this.errors = new Counter({ name: 'parley_errors_total', help: 'Errors answered to client commands, by protocol error code.', labelNames: ['code'], registers });
    this.disconnects = new Counter({ name: 'parley_disconnects_total', help: 'Connections closed by the server, by close code.', labelNames: ['code'], registers });
    this.publications = new Counter({ name: 'parley_publications_published_total', help: 'Publications published through this node (clients, server API, chat).', registers });
    this.fanOuts = new Counter({ name: 'parley_publications_fanned_out_total', help: 'Publications from the broker fanned out to local subscribers.', registers });
    this.deliveries = new Counter({ name: 'parley_publication_deliveries_total', help: 'Publications handed to local subscribers (one per subscriber per publication).', registers });
    this.deltaPatches = new Counter({
      name: 'parley_delta_patches_total',
      help: 'Fossil patches computed for delta subscriptions: once per publication for all live subscribers, and per recovered publication.',
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'parley_publish_commit_seconds',
      help: 'Time from a publish reaching the store to its being durable (store append).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'parley_publish_delivery_seconds',
      help: 'Time from a publish reaching the store (the publication time) to its fan-out on this node.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.recoveries = new Counter({
      name: 'parley_recoveries_total',
      help: 'Subscribes that asked to recover missed publications, by outcome (recovered, not_recovered, rejected with error 112).',
      labelNames: ['outcome'],
      registers,
    });
    // The outcomes are known: each series exists from the start, so rates over them need no first event.
    for (const outcome of RECOVERY_OUTCOMES) this.recoveries.inc({ outcome }, 0);
    this.serviceSeconds = new Histogram({
      name: 'parley_service_round_trip_seconds',
      help: 'Round-trip time of successful service checks, by service.',
      labelNames: ['service'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.serviceFailures = new Counter({ name: 'parley_service_failures_total', help: 'Failed or timed-out service checks, by service.', labelNames: ['service'], registers });
    this.serviceUp = new Gauge({ name: 'parley_service_up', help: 'Whether the last check of a service succeeded (1) or not (0).', labelNames: ['service'], registers });
    this.proxyCalls = new Counter({
      name: 'parley_proxy_calls_total',
      help: 'Backend proxy calls, by proxy (connect, refresh, subscribe, publish, rpc) and outcome (result, error, disconnect, failed).',
      labelNames: ['proxy', 'outcome'],
      registers,
    });
    this.proxySeconds = new Histogram({
      name: 'parley_proxy_call_seconds',
      help: 'Duration of backend proxy calls, failed ones included, by proxy.',
      labelNames: ['proxy'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** The Content-Type of {@link exposition}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text exposition format. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** Where the connection and subscription gauges read their values at each scrape. */
  observeLoad(source: LoadSource): void {
    this.loadSource = source;
  }

  /**
   * Starts sampling event-loop delay; the `parley_event_loop_lag_*` gauges
   * report the mean, 99th percentile and maximum since the previous scrape.
   * Stopped by {@link close}.
   */
  monitorEventLoop(): void {
    if (this.eventLoop) return;
    const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    histogram.enable();
    this.eventLoop = histogram;
    const registers = [this.registry];
    // The monitor's own timer adds its resolution to every sample: it is taken off.
    const seconds = (nanoseconds: number) => Math.max(0, nanoseconds / 1e9 - EVENT_LOOP_RESOLUTION_MS / 1000);
    const stats: [string, string, (h: IntervalHistogram) => number][] = [
      ['mean', 'Mean', (h) => h.mean],
      ['p99', '99th percentile of the', (h) => h.percentile(99)],
      ['max', 'Maximum', (h) => h.max],
    ];
    for (const [suffix, what, read] of stats) {
      new Gauge({
        name: `parley_event_loop_lag_${suffix}_seconds`,
        help: `${what} event-loop delay since the previous scrape.`,
        registers,
        collect() {
          if (histogram.count > 0) this.set(seconds(read(histogram)));
        },
      });
    }
    // Reset after every gauge read the interval's values (collects run in registration order, this last).
    new Gauge({
      name: 'parley_event_loop_lag_samples',
      help: 'Event-loop delay samples taken since the previous scrape.',
      registers,
      collect() {
        this.set(histogram.count);
        histogram.reset();
      },
    });
  }

  // ---- hooks --------------------------------------------------------------

  /** A client command was received. */
  command(method: string): void {
    this.child(this.commands, method).inc();
  }

  /** An error was answered to a client command. */
  error(code: number): void {
    this.child(this.errors, code).inc();
  }

  /** The server closed a connection with a close code. */
  disconnect(code: number): void {
    this.child(this.disconnects, code).inc();
  }

  /** A publication was published (stored when its channel keeps history, and handed to the broker). */
  published(): void {
    this.publications.inc();
  }

  /** A store append took `milliseconds` to become durable. */
  committed(milliseconds: number): void {
    this.commitSeconds.observe(milliseconds / 1000);
  }

  /**
   * A publication was fanned out to `subscribers` local listeners; `storedAt`
   * is its store time (ms since the Unix epoch), absent for publications
   * without history. Clocks of different machines may disagree slightly: a
   * negative latency counts as zero.
   */
  fannedOut(subscribers: number, storedAt: number | undefined): void {
    this.fanOuts.inc();
    this.deliveries.inc(subscribers);
    if (storedAt !== undefined) this.deliverySeconds.observe(Math.max(0, Date.now() - storedAt) / 1000);
  }

  /** A fossil patch was computed for delta subscriptions. */
  deltaPatch(): void {
    this.deltaPatches.inc();
  }

  /** A subscribe that asked for recovery ended with `outcome`. */
  recovery(outcome: RecoveryOutcome): void {
    this.child(this.recoveries, outcome).inc();
  }

  /** A check of `service` succeeded after `milliseconds`. */
  serviceCheckSucceeded(service: string, milliseconds: number): void {
    this.serviceSeconds.labels(service).observe(milliseconds / 1000);
    this.serviceUp.labels(service).set(1);
  }

  /** A check of `service` failed or timed out. */
  serviceCheckFailed(service: string): void {
    this.serviceFailures.labels(service).inc();
    this.serviceUp.labels(service).set(0);
  }

  /** A backend proxy call of kind `proxy` ended with `outcome` after `milliseconds`. */
  proxyCall(proxy: string, outcome: ProxyCallOutcome, milliseconds: number): void {
    this.proxyCalls.labels(proxy, outcome).inc();
    this.proxySeconds.labels(proxy).observe(milliseconds / 1000);
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.eventLoop?.disable();
  }

  private child(counter: Counter<string>, value: string | number): Counter.Internal {
    let byValue = this.children.get(counter);
    if (!byValue) {
      byValue = new Map();
      this.children.set(counter, byValue);
    }
    let child = byValue.get(value);
    if (!child) {
      child = counter.labels(String(value));
      byValue.set(value, child);
    }
    return child;
  }
}
