// Ten times the note's size: 320 prefixes × 4 samples × 4 conditions × 4 arms (20,480 judged suffixes) on the
// simulated endpoints. Reports the makespan, the largest workflow history (events and bytes), the most
// activities pending at once in any workflow, the worker's peak RSS and the number of child workflows.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { runDemo } from '../src/cli/demo';
import { connectClient } from '../src/cli/temporal';
import { armWorkflowId } from '../src/workflows/api';
import { numArg, root } from './lib';

const out = join(root, 'bench/results');

/** 320 distinct rows from the 46 held-out passages: each passage in several numbered parts. */
function scaleRows(n: number): string {
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

function pendingPeak(events: temporal.api.history.v1.IHistoryEvent[]): number {
  let open = 0;
  let peak = 0;
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) peak = Math.max(peak, ++open);
    if (e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes || e.activityTaskCanceledEventAttributes) open--;
  }
  return peak;
}

async function main(): Promise<void> {
  const prefixes = numArg('prefixes', 320);
  const latencyMs = numArg('latency-ms', 0);
  mkdirSync(out, { recursive: true });
  const dataset = join(out, 'scale-data.jsonl');
  writeFileSync(dataset, scaleRows(prefixes));
  const config = join(out, 'scale.yaml');
  writeFileSync(config, readFileSync(join(root, 'examples/demo.yaml'), 'utf8').replace('name: demo', 'name: scale').replace('path: data/heldout.jsonl', `path: ${dataset}`).replace('limit: 32', `limit: ${prefixes}`));
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
  const { ms, runId, result } = await runDemo({ config, latencyMs, quiet: true, print: false, dataset });
  clearInterval(sampler);
  const client = await connectClient();
  const arms = Object.keys(result.summary.arms);
  const rowsOut: { workflowId: string; events: number; bytes: number; pendingPeak: number }[] = [];
  for (const id of [runId, ...arms.map((a) => armWorkflowId(runId, a))]) {
    const h = await client.workflow.getHandle(id).fetchHistory();
    const events = h.events ?? [];
    rowsOut.push({ workflowId: id, events: events.length, bytes: temporal.api.history.v1.History.encode(h).finish().length, pendingPeak: pendingPeak(events) });
  }
  const largest = rowsOut.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const judged = result.summary.scale.judgedSuffixes;
  process.stdout.write(`| prefixes | judged suffixes | latency | makespan | largest history | most pending activities | worker peak RSS | child workflows |\n| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n`);
  process.stdout.write(`| ${prefixes} | ${judged} | ${latencyMs} ms | ${(ms / 1000).toFixed(1)} s | ${largest.events} events, ${(largest.bytes / 1024).toFixed(0)} KB (${largest.workflowId}) | ${Math.max(...rowsOut.map((r) => r.pendingPeak))} | ${(rss / 1024 / 1024).toFixed(0)} MB | ${arms.length} |\n`);
  for (const r of rowsOut) process.stdout.write(`  ${r.workflowId}: ${r.events} events, ${(r.bytes / 1024).toFixed(0)} KB, at most ${r.pendingPeak} activities pending\n`);
  writeFileSync(join(out, 'scale.json'), `${JSON.stringify({ prefixes, judged, latencyMs, makespanSeconds: ms / 1000, workerPeakRssBytes: rss, histories: rowsOut }, null, 2)}\n`);
  process.exit(0);
}

void main();
