import type { DatasetRow } from '../config/schema';

/** The dataset row the simulated arms answer for (the run config's row type). */
export type { DatasetRow };

/** Kinds of injectable faults. */
export type FaultKind = 'down' | '400' | '401' | '403' | '503' | '429' | 'stall' | 'garbage' | 'reset' | 'invalid';

/** A fault-injection rule; the first active matching rule applies to a request. */
export interface FaultRule {
  model?: string;
  kind: FaultKind;
  /** Applies only to requests whose prompt contains this text (e.g. one prefix). */
  match?: string;
  afterRequests?: number;
  atMs?: number;
  durationMs?: number;
  count?: number;
  retryAfterSeconds?: number;
}

/** How an arm model's suffix request relates to the thought it was given. */
export type ThoughtClass = 'own' | 'blank' | 'generic' | 'swapped';

/** Options of the simulated OpenAI-compatible server. */
export interface SimOptions {
  port?: number;
  host?: string;
  rows: DatasetRow[];
  judgeModel?: string;
  armModels?: string[];
  apiKey?: string;
  latencyMs?: number;
  judgeInvalidRate?: number;
  /** More judge models, each with the probability that it gives the opposite of the main judge's score. */
  extraJudges?: Record<string, number>;
  /** A chat model that paraphrases a thought given between <thought> tags (the words kept, some order and words changed). */
  paraphraseModel?: string;
  faults?: FaultRule[];
  /** Overrides of the per-class success probabilities (defaults own .12, blank .14, generic .20, swapped .02). */
  successRates?: Partial<Record<ThoughtClass, number>>;
}

/** Per-model request counters. */
export interface ModelStats {
  requests: number;
  completed: number;
  errors: number;
  inFlight: number;
  peakConcurrent: number;
  /** Of the requests, those that asked for a stream. */
  streamed: number;
  /** Milliseconds the requests were open, summed (over a window, divided by its length: the mean concurrency). */
  busyMs: number;
}

/** Server-wide counters; `simulated` is always true. */
export interface SimStats {
  simulated: true;
  models: Record<string, ModelStats>;
  totalRequests: number;
}

/** Handle of a running simulated server. */
export interface SimServer {
  url: string;
  port: number;
  stats(): SimStats;
  resetStats(): void;
  setFaults(rules: FaultRule[]): void;
  close(): Promise<void>;
}
