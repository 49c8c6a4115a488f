/**
 * The benchmark's outputs: the JSON of the whole run (these types), a
 * Markdown report (markdown.ts) with the targets checked against the numbers
 * (targets.ts), and an SVG bar chart drawn by hand (chart.ts).
 */
import type { MachineInfo } from './proc.js';
import type { ScenarioConfigs, ScenarioId, ScenarioResult, ServerId } from './types.js';

export type Outcome = ScenarioResult | { skipped: string } | { error: string };

export interface RunInfo {
  machine: MachineInfo & {
    taskset: boolean;
    serverCore: number | null;
    loadCore: number | null;
    go: string | null;
    tmpFilesystem: string | null;
  };
  quick: boolean;
  configs: ScenarioConfigs;
  /** Rounds of (a) and (d); each reported result is the median round. */
  rounds: number;
  servers: { id: ServerId; title: string; description: string; skipped?: string }[];
  scenarios: ScenarioId[];
  durationSeconds: number;
}

export interface TargetCheck {
  id: string;
  scenario: ScenarioId;
  description: string;
  measured: string;
  required: string;
  status: 'met' | 'missed' | 'not measured';
  note?: string;
}

export interface BenchReport extends RunInfo {
  version: 1;
  results: Partial<Record<ScenarioId, Partial<Record<ServerId, Outcome>>>>;
  targets: TargetCheck[];
}

function isResult<T extends ScenarioResult>(outcome: Outcome | undefined, scenario: T['scenario']): outcome is T {
  return outcome !== undefined && 'scenario' in outcome && outcome.scenario === scenario;
}

/** The result of `server` in `scenario`, when it ran. */
export function resultOf<T extends ScenarioResult>(report: Pick<BenchReport, 'results'>, scenario: T['scenario'], server: ServerId): T | undefined {
  const outcome = report.results[scenario]?.[server];
  return isResult<T>(outcome, scenario) ? outcome : undefined;
}
