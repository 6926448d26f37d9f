// The scale benchmarks.
//
// As a script (`npm run bench:scale`), the deployed shape at 10x and 100x the note (bench/scale-harness.ts): the
// note's 4 arms x 4 conditions x 4 samples with --prefixes prefixes (320 = 10x, 3,200 = 100x) at zero latency, the
// PostgreSQL store in a private cluster, `thought-probe worker` processes of their own, then report.html in
// Chromium, `view`, `analyze` (also of a 1,000x samples.jsonl), `export`, `compare` and `power`:
//
//   npm run bench:scale -- [--prefixes 320,3200] [--runs 3,1] [--topology split|single] [--skip-1000x] ...
//                                       (writes bench/results/scale-100x.json and scale-100x.md; see the harness)
//
// `--in-process` keeps the older measurement (writes bench/results/scale.json): runScale below, a run through
// runDemo with the worker in this process, the dataset inline. bench/index.ts calls runScale as its part (d)
// (ten times the note's size: 320 prefixes x 4 samples x 4 conditions x 4 arms, 20,480 judged suffixes). Per run
// the makespan, the largest workflow history (events and bytes) over every execution of the run, the most
// activities pending at once in any workflow, the worker's peak RSS, the number of child workflows and of
// continue-as-new; with several runs, the median makespan and the max of the rest; and whether every history stays
// under Temporal's warning thresholds and the pending-activity limit.
//
//   npm run bench:scale -- --in-process [--prefixes 320] [--runs 1] [--latency-ms 0]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { median, numArg, root } from './scale-util';

// The worker and the CLI's client are loaded when runScale runs, not when the harness imports this module's
// helpers (scaleRows, runExecutions), so that the harness loads next to nothing of src/.
/* eslint-disable @typescript-eslint/no-require-imports */
const demo = () => require('../src/cli/demo') as typeof import('../src/cli/demo');
const cliTemporal = () => require('../src/cli/temporal') as typeof import('../src/cli/temporal');
/* eslint-enable @typescript-eslint/no-require-imports */

const out = join(root, 'bench/results');

/** Temporal's defaults: the server warns past these history sizes, and fails scheduling past this many pending activities. */
export const SCALE_LIMITS = { historyEvents: 10_240, historyBytes: 10 * 1024 * 1024, pendingActivities: 2_000 };

/** 320 distinct rows from the 46 held-out passages: each passage in several numbered parts. */
export function scaleRows(n: number): string {
  const base = readFileSync(join(root, 'examples/data/heldout.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; prefix: string; suffix: string });
  const rows: string[] = [];
  for (let v = 0; rows.length < n; v++) {
    for (const r of base) {
      if (rows.length >= n) break;
      rows.push(JSON.stringify({ id: `${r.id}-p${v}`, prefix: `Part ${v + 1}. ${r.prefix}`, suffix: r.suffix, sourceId: r.id }));
    }
  }
  return `${rows.join('\n')}\n`;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function pendingPeak(events: HistoryEvent[]): number {
  let open = 0;
  let peak = 0;
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) peak = Math.max(peak, ++open);
    if (e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes || e.activityTaskCanceledEventAttributes) open--;
  }
  return peak;
}

/** One workflow execution's history, measured. */
export interface ExecutionStats {
  workflowId: string;
  /** Set for an earlier run of a continue-as-new chain; null for the latest (normally the only) run. */
  runId: string | null;
  events: number;
  bytes: number;
  pendingPeak: number;
  continuedAsNew: number;
}

/** The workflow ids of the children an execution started (started, not merely initiated: those have a history). */
function startedChildren(events: HistoryEvent[]): string[] {
  return events.map((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId).filter((id): id is string => !!id);
}

/**
 * Every execution of a run: the run's workflow and its children (recursively), each with the earlier runs of
 * its continue-as-new chain (walked back through the started event's continuedExecutionRunId), so that a history
 * split by continue-as-new is not missed. A handle without a run id only reaches the latest run.
 */
export async function runExecutions(client: Client, workflowId: string): Promise<{ stats: ExecutionStats[]; children: number }> {
  const stats: ExecutionStats[] = [];
  const seen = new Set<string>([workflowId]);
  const queue = [workflowId];
  while (queue.length) {
    const id = queue.shift()!;
    let runId: string | undefined;
    do {
      const h = await client.workflow.getHandle(id, runId).fetchHistory();
      const events = h.events ?? [];
      stats.push({
        workflowId: id,
        runId: runId ?? null,
        events: events.length,
        bytes: temporal.api.history.v1.History.encode(h).finish().length,
        pendingPeak: pendingPeak(events),
        continuedAsNew: events.filter((e) => e.workflowExecutionContinuedAsNewEventAttributes).length,
      });
      for (const child of startedChildren(events)) {
        if (seen.has(child)) continue;
        seen.add(child);
        queue.push(child);
      }
      runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    } while (runId);
  }
  return { stats, children: seen.size - 1 };
}

/** One scale run, measured. */
export interface ScaleRun {
  runId: string;
  makespanSeconds: number;
  largestHistory: { events: number; eventsWorkflowId: string; bytes: number; bytesWorkflowId: string };
  mostPendingActivities: number;
  /** This process's peak RSS over the run (the worker runs in-process), sampled every 250 ms. */
  workerPeakRssBytes: number;
  /** This process's RSS when the run began: what earlier runs (or parts of bench/index.ts) left behind. */
  rssAtStartBytes: number;
  childWorkflows: number;
  continuedAsNew: number;
  histories: ExecutionStats[];
}

/** Over several runs: the median makespan and the max of the other figures. */
export interface ScaleOverall {
  makespanSecondsMedian: number;
  largestHistory: { events: number; bytes: number };
  mostPendingActivities: number;
  workerPeakRssBytes: number;
  childWorkflows: number;
  continuedAsNew: number;
}

/** Whether the figures (of a run, or the max over runs) stay under SCALE_LIMITS. */
function limitsMet(o: { largestHistory: { events: number; bytes: number }; mostPendingActivities: number }): { histories: boolean; pendingActivities: boolean; all: boolean } {
  const histories = o.largestHistory.events < SCALE_LIMITS.historyEvents && o.largestHistory.bytes < SCALE_LIMITS.historyBytes;
  const pendingActivities = o.mostPendingActivities < SCALE_LIMITS.pendingActivities;
  return { histories, pendingActivities, all: histories && pendingActivities };
}

/** Writes the scale dataset and config into bench/results; returns the config's and the dataset's paths. */
function writeScaleInputs(prefixes: number): { config: string; dataset: string } {
  mkdirSync(out, { recursive: true });
  const dataset = join(out, 'scale-data.jsonl');
  writeFileSync(dataset, scaleRows(prefixes));
  const config = join(out, 'scale.yaml');
  writeFileSync(config, readFileSync(join(root, 'examples/demo.yaml'), 'utf8').replace('name: demo', 'name: scale').replace('path: data/heldout.jsonl', `path: ${dataset}`).replace('limit: 32', `limit: ${prefixes}`));
  return { config, dataset };
}

async function scaleRun(config: string, dataset: string, latencyMs: number, client: Client): Promise<ScaleRun & { judged: number }> {
  const rssAtStart = process.memoryUsage().rss;
  let rss = rssAtStart;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
  let run: Awaited<ReturnType<ReturnType<typeof demo>['runDemo']>>;
  try {
    run = await demo().runDemo({ config, latencyMs, quiet: true, print: false, dataset });
  } finally {
    clearInterval(sampler);
  }
  const { stats, children } = await runExecutions(client, run.runId);
  const byEvents = stats.reduce((a, b) => (b.events > a.events ? b : a));
  const byBytes = stats.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return {
    runId: run.runId,
    judged: run.result.summary.scale.judgedSuffixes,
    makespanSeconds: run.ms / 1000,
    largestHistory: { events: byEvents.events, eventsWorkflowId: byEvents.workflowId, bytes: byBytes.bytes, bytesWorkflowId: byBytes.workflowId },
    mostPendingActivities: Math.max(...stats.map((s) => s.pendingPeak)),
    workerPeakRssBytes: rss,
    rssAtStartBytes: rssAtStart,
    childWorkflows: children,
    continuedAsNew: stats.reduce((a, s) => a + s.continuedAsNew, 0),
    histories: stats,
  };
}

const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

/**
 * Runs the scale measurement `runs` times in a row, prints a markdown table (a row per run; with several runs a
 * row of the median makespan and the max of the other figures) and the thresholds, and returns what scale.json holds.
 * Assumes nothing about the dev server: runDemo finds or starts it.
 */
export async function runScale(opts: { prefixes: number; latencyMs: number; runs: number }) {
  const { prefixes, latencyMs, runs } = opts;
  const { config, dataset } = writeScaleInputs(prefixes);
  const client = await cliTemporal().connectClient();
  const measured: ScaleRun[] = [];
  let judged = 0;
  for (let i = 0; i < runs; i++) {
    // runDemo names a run after the clock to the second: a pause keeps a quick run's successor from reusing its id.
    if (i > 0) await new Promise((r) => setTimeout(r, 1000));
    const { judged: j, ...r } = await scaleRun(config, dataset, latencyMs, client);
    judged = j;
    measured.push(r);
    process.stderr.write(`scale run ${i + 1}/${runs} (${r.runId}): ${r.makespanSeconds.toFixed(1)} s\n`);
  }
  const max = (pick: (r: ScaleRun) => number) => Math.max(...measured.map(pick));
  const overall: ScaleOverall = {
    makespanSecondsMedian: median(measured.map((r) => r.makespanSeconds)),
    largestHistory: { events: max((r) => r.largestHistory.events), bytes: max((r) => r.largestHistory.bytes) },
    mostPendingActivities: max((r) => r.mostPendingActivities),
    workerPeakRssBytes: max((r) => r.workerPeakRssBytes),
    childWorkflows: max((r) => r.childWorkflows),
    continuedAsNew: max((r) => r.continuedAsNew),
  };
  const result = {
    kind: 'scale',
    date: new Date().toISOString(),
    machine: `${cpus().length} cores (shared; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end)`,
    prefixes,
    judged,
    latencyMs,
    limits: SCALE_LIMITS,
    runs: measured,
    overall,
    withinLimits: limitsMet(overall),
  };
  printScale(result);
  return result;
}

/** What runScale returns (and scale.json holds). */
export type ScaleResult = Awaited<ReturnType<typeof runScale>>;

function printScale(s: { prefixes: number; judged: number; latencyMs: number; runs: ScaleRun[]; overall: ScaleOverall; withinLimits: ReturnType<typeof limitsMet> }): void {
  const row = (name: string, r: { makespan: string; events: number; bytes: number; pending: number; rss: number; children: number; can: number }) =>
    `| ${name} | ${s.prefixes} | ${s.judged} | ${s.latencyMs} ms | ${r.makespan} | ${r.events} | ${kb(r.bytes)} | ${r.pending} | ${mb(r.rss)} | ${r.children} | ${r.can} |`;
  const lines = [
    '| run | prefixes | judged suffixes | latency | makespan | largest history: events | largest history: bytes | most pending activities | worker peak RSS | child workflows | continue-as-new |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...s.runs.map((r, i) =>
      row(`${i + 1} (${r.runId})`, { makespan: `${r.makespanSeconds.toFixed(1)} s`, events: r.largestHistory.events, bytes: r.largestHistory.bytes, pending: r.mostPendingActivities, rss: r.workerPeakRssBytes, children: r.childWorkflows, can: r.continuedAsNew }),
    ),
  ];
  const o = s.overall;
  if (s.runs.length > 1) lines.push(row('median makespan; max of the rest', { makespan: `${o.makespanSecondsMedian.toFixed(1)} s`, events: o.largestHistory.events, bytes: o.largestHistory.bytes, pending: o.mostPendingActivities, rss: o.workerPeakRssBytes, children: o.childWorkflows, can: o.continuedAsNew }));
  lines.push('');
  for (const [i, r] of s.runs.entries()) {
    lines.push(`run ${i + 1}: RSS ${mb(r.rssAtStartBytes)} at its start; largest history by events ${r.largestHistory.eventsWorkflowId}, by bytes ${r.largestHistory.bytesWorkflowId}`);
    for (const h of r.histories) lines.push(`  ${h.workflowId}${h.runId ? ` (earlier run ${h.runId})` : ''}: ${h.events} events, ${kb(h.bytes)}, at most ${h.pendingPeak} activities pending`);
  }
  const yes = (b: boolean) => (b ? 'yes' : 'NO');
  lines.push(
    '',
    `every history under Temporal's warning thresholds (${SCALE_LIMITS.historyEvents.toLocaleString('en')} events, ${mb(SCALE_LIMITS.historyBytes)}): ${yes(s.withinLimits.histories)} (at most ${o.largestHistory.events} events, ${kb(o.largestHistory.bytes)}); ` +
      `under ${SCALE_LIMITS.pendingActivities.toLocaleString('en')} pending activities: ${yes(s.withinLimits.pendingActivities)} (at most ${o.mostPendingActivities})`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  if (!process.argv.includes('--in-process')) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require('./scale-harness') as typeof import('./scale-harness')).main();
    return;
  }
  const result = await runScale({ prefixes: numArg('prefixes', 320), latencyMs: numArg('latency-ms', 0), runs: numArg('runs', 1) });
  writeFileSync(join(out, 'scale.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`results in ${join(out, 'scale.json')}\n`);
  // The worker's native runtime may hold the loop open a moment longer than needed.
  process.exit(0);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
