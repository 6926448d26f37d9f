import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ArmChunk, ArmProgress, CompactRecord } from './schedule';
import type { PlanPrefix } from '../experiment/plan';
import type { Condition } from '../experiment/conditions';
import type { Summary } from '../experiment/summary';
import type { ArtifactPaths, SampleError } from '../activities';
import type { StoreRef } from '../store/types';

/** Why an arm stopped scheduling: an endpoint failed for longer than its outage budget. */
export interface PauseInfo {
  endpoint: 'arm' | 'judge' | 'paraphrase';
  since: string;
  message: string;
}

/** What an arm child reports to its run. */
export interface ArmReport extends ArmProgress {
  paused: PauseInfo | null;
}

/** Progress of one arm, as the run's progress query reports it. */
export interface ArmStatus extends ArmReport {
  status: 'pending' | 'running' | 'completed' | 'failed';
  updatedAt: string | null;
  lastError: { message: string; at: string } | null;
}

/** The answer of the `progress` query on probeRun. */
export interface RunProgress {
  runId: string;
  name: string;
  phase: 'preparing' | 'running' | 'writing' | 'completed' | 'failed';
  startedAt: string;
  arms: Record<string, ArmStatus>;
}

/** Input of a probeArm child: one arm's plan, ids only (texts are in the run's store). */
export interface ProbeArmInput {
  runId: string;
  parentWorkflowId: string;
  storeDir: string;
  /** The run's store when it is not the file store in storeDir. */
  store?: StoreRef;
  arm: string;
  armTaskQueue: string;
  judgeTaskQueue: string;
  armSlots: number;
  judgeSlots: number;
  prefixes: PlanPrefix[];
  samples: number;
  conditions: Condition[];
  swap: number[] | null;
  /** The configured interventions among `conditions` (absent when there are none, as in older runs). */
  derivedConditions?: string[];
  /** `paraphrased_thought` conditions: this arm's slots of each one's paraphraser, and the task queue of its activities. */
  paraphrase?: { slots: Record<string, number>; taskQueue: string };
  maxRequestsPerActivity: number;
  armMaxRetryIntervalSeconds: number;
  judgeMaxRetryIntervalSeconds: number;
  /** Prefixes per chunk when the config sets it (`batching.prefixesPerChunk`); else the arm derives it. */
  prefixesPerChunk?: number;
  /** Set when the arm continued as new: the chunk to schedule and what the earlier chunks did. */
  chunk?: ArmChunk;
}

/** What a probeArm child returns: the samples that failed, and (older runs only) compact records. */
export interface ProbeArmResult {
  arm: string;
  records: CompactRecord[];
  errors: SampleError[];
  batches: number;
}

/** Options of a run beyond its config: earlier runs whose stored work it reuses. */
export interface ProbeRunOptions {
  resumeFrom?: string[];
}

/** What probeRun returns. */
export interface ProbeRunResult {
  runId: string;
  artifacts: ArtifactPaths;
  summary: Summary;
}

/** Per-arm progress and state for displays. */
export const progressQuery = defineQuery<RunProgress>('progress');
/** Sent by an arm child to its run with its latest progress. */
export const armProgressSignal = defineSignal<[string, ArmReport]>('armProgress');
/** Sent by the run to an arm that asked for judge slots: this many more are its own now. */
export const judgeGrantSignal = defineSignal<[number]>('judgeGrant');
/** Sent by an arm to its run: a positive number asks for that many more judge slots, a negative one gives slots back. */
export const judgeLendSignal = defineSignal<[string, number]>('judgeLend');
/** Sent by the run to its other arms when one arm failed: finish what is in flight, then stop. */
export const stopSignal = defineSignal<[string]>('stop');
/** Continues a run (and its arms) paused by an outage budget. */
export const resumeSignal = defineSignal('resume');
/** Sent by the run to an arm child: judge slots it may use from now on (only ever raised). */
export const judgeSlotsSignal = defineSignal<[number]>('judgeSlots');
/** The progress of one arm child. */
export const armProgressQuery = defineQuery<ArmReport>('armProgress');

/** The workflow id of an arm's child: `<run id>/arm/<arm name>`. */
export function armWorkflowId(runId: string, arm: string): string {
  return `${runId}/arm/${arm}`;
}
