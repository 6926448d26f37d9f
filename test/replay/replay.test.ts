/**
 * Replay tests: the committed histories (test/replay/fixtures, made by test/replay/make-fixtures.ts) must replay
 * with the current workflow code; a deliberately reordered probeArm must fail with a message naming the event
 * and the expected and produced commands. No Temporal server is needed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { historyFileName, parseHistoryDocument, readHistoryFile, workflowIdFromFileName, type NamedHistory } from '../../src/replay/files';
import { historyFromJSON, historyToJSON } from '../../src/replay/protojson';
import { eventTypeName, explainNondeterminism } from '../../src/replay/nondeterminism';
import { renderReplayOutcome, replayHistories } from '../../src/replay/replay';
import { outputFiles, bundleJSON } from '../../src/cli/history';
import { workflowsPath } from '../../src/workers/worker';
import { runCli, show } from '../helpers/e2e-cli';

const FIXTURES = join(__dirname, 'fixtures');
const fixtureFiles = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => join(FIXTURES, f));
const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };

let current: WorkflowBundle;
let reordered: WorkflowBundle;
let items: NamedHistory[];

beforeAll(async () => {
  try {
    // The replay worker logs each nondeterminism it meets; the test asserts on the outcome instead.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  } catch {
    // installed already
  }
  [current, reordered] = await Promise.all([
    bundleWorkflowCode({ workflowsPath, logger: quiet as never }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./reordered-workflows'), logger: quiet as never }),
  ]);
  items = fixtureFiles.flatMap(readHistoryFile);
}, 120_000);

/** The activity ids of the ActivityTaskScheduled events of the arm fixture's first workflow task. */
function firstScheduledIds(h: NamedHistory): { eventId: number; activityId: string }[] {
  const out: { eventId: number; activityId: string }[] = [];
  let started = false;
  for (const e of h.history.events ?? []) {
    const t = eventTypeName(e.eventType);
    if (t === 'ActivityTaskScheduled') {
      started = true;
      out.push({ eventId: Number(e.eventId), activityId: e.activityTaskScheduledEventAttributes!.activityId! });
    } else if (started && t !== 'SignalExternalWorkflowExecutionInitiated') break;
  }
  return out;
}

test('fixtures exist (a run and its arm), are small, and name their workflow ids', () => {
  // Older fixtures kept after a patched change (docs/replay.md) may sit next to these.
  expect(fixtureFiles.map((f) => f.slice(FIXTURES.length + 1))).toEqual(expect.arrayContaining(['replay-smoke.json', 'replay-smoke__arm__think_base.json']));
  const total = fixtureFiles.reduce((n, f) => n + readFileSync(f).length, 0);
  // Four generations of fixtures (before judge lending, before judging ahead, before the summary activity,
  // current) stay small.
  expect(total).toBeLessThan(700 * 1024);
  expect(items.map((i) => i.workflowId)).toEqual(expect.arrayContaining(['replay-smoke', 'replay-smoke/arm/think_base']));
});

test('every committed history replays with the current workflow code', async () => {
  const outcomes = await replayHistories(items, { workflowBundle: current });
  expect(outcomes.map(renderReplayOutcome)).toEqual(items.map((i) => `OK ${i.workflowId}`));
});

test('a probeArm that schedules its batches in another order fails replay, naming the event and both commands', async () => {
  const arm = items.find((i) => i.workflowId === 'replay-smoke/arm/think_base')!;
  const scheduled = firstScheduledIds(arm);
  // The variant reverses the first batches: the fixture must start with at least two.
  expect(scheduled.length).toBeGreaterThanOrEqual(2);
  const [outcome] = await replayHistories([arm], { workflowBundle: reordered });
  expect(outcome).toMatchObject({ workflowId: 'replay-smoke/arm/think_base', ok: false, kind: 'nondeterminism' });
  expect(outcome!.nondeterminism).toMatchObject({
    eventId: scheduled[0]!.eventId,
    eventType: 'ActivityTaskScheduled',
    expected: `ScheduleActivityTask generate, activity id '${scheduled[0]!.activityId}'`,
    produced: `ScheduleActivityTask, activity id '${scheduled[scheduled.length - 1]!.activityId}'`,
  });
  const text = renderReplayOutcome(outcome!);
  expect(text).toContain(`FAIL replay-smoke/arm/think_base`);
  expect(text).toContain(`at event ${scheduled[0]!.eventId} ActivityTaskScheduled`);
  expect(text).toContain(`expected (recorded in history): ScheduleActivityTask generate, activity id '${scheduled[0]!.activityId}'`);
  expect(text).toContain(`produced (current code):        ScheduleActivityTask, activity id '${scheduled[scheduled.length - 1]!.activityId}'`);
  expect(text).toContain('[TMPRL1100]');
  expect(text).toContain('patched()');
  // The run itself still replays with the variant (its probeRun is the real one).
  const [run] = await replayHistories([items.find((i) => i.workflowId === 'replay-smoke')!], { workflowBundle: reordered });
  expect(run!.ok).toBe(true);
});

test('the replay command prints OK per fixture, and exits 1 with the event and commands on a history that no longer matches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-replay-'));
  try {
    // The arm history with its first two scheduled activities swapped: the current code schedules them the other way.
    const arm = items.find((i) => i.workflowId === 'replay-smoke/arm/think_base')!;
    const json = JSON.parse(historyToJSON(arm.history)) as { events: Record<string, { activityId?: string }>[] };
    const [a, b] = firstScheduledIds(arm);
    const ev = (id: number) => json.events.find((e) => Number((e as unknown as { eventId: string }).eventId) === id)!.activityTaskScheduledEventAttributes!;
    [ev(a!.eventId).activityId, ev(b!.eventId).activityId] = [b!.activityId, a!.activityId];
    const swapped = join(dir, 'swapped.json');
    writeFileSync(swapped, JSON.stringify(json));
    const [ok, bad] = await Promise.all([runCli(['replay', ...fixtureFiles]), runCli(['replay', swapped])]);
    expect({ status: ok.status, out: show(ok) }).toMatchObject({ status: 0 });
    expect(ok.stdout.trim().split('\n')).toEqual(items.map((i) => `OK ${i.workflowId}`));
    expect({ status: bad.status, out: show(bad) }).toMatchObject({ status: 1 });
    // The id comes from the history itself, whatever the file is called.
    expect(bad.stdout).toContain('FAIL replay-smoke/arm/think_base');
    expect(bad.stdout).toContain(`at event ${a!.eventId} ActivityTaskScheduled`);
    expect(bad.stdout).toContain(`expected (recorded in history): ScheduleActivityTask generate, activity id '${b!.activityId}'`);
    expect(bad.stdout).toContain(`produced (current code):        ScheduleActivityTask, activity id '${a!.activityId}'`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('history files', () => {
  test('file names keep the workflow id', () => {
    for (const id of ['r1', 'r1/arm/think_base', 'smoke-2/arm/a_b', 'x__y/arm/z', 'we ird#1/arm/_lead']) {
      const name = historyFileName(id);
      expect(name).toMatch(/^[A-Za-z0-9._@+=,%-]+(__[A-Za-z0-9._@+=,%-]+)*\.json$/);
      expect(workflowIdFromFileName(`/some/dir/${name}`)).toBe(id);
    }
    expect(historyFileName('r1/arm/think_base')).toBe('r1__arm__think_base.json');
  });

  test('--out: a directory gets one file per workflow; a file path is the run and its children go next to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-out-'));
    try {
      expect(outputFiles(dir, ['r1', 'r1/arm/a'])).toEqual([join(dir, 'r1.json'), join(dir, 'r1__arm__a.json')]);
      expect(outputFiles('h/new/', ['r1', 'r1/arm/a'])).toEqual(['h/new/r1.json', 'h/new/r1__arm__a.json']);
      expect(outputFiles('h/x.json', ['r1', 'r1/arm/a'])).toEqual(['h/x.json', 'h/x__arm__a.json']);
      expect(outputFiles('h/x', ['r1', 'r1/arm/a'])).toEqual(['h/x.json', 'h/x__arm__a.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('documents: a history, a wrapped one, several at once, and the old enum spelling', () => {
    const arm = items.find((i) => i.workflowId === 'replay-smoke/arm/think_base')!;
    const text = historyToJSON(arm.history);
    expect(parseHistoryDocument(text, 'any-name.json')[0]!.workflowId).toBe('replay-smoke/arm/think_base');
    expect(parseHistoryDocument(`{"history": ${text}}`, 'x.json')[0]!.history.events).toHaveLength(arm.history.events!.length);
    const many = parseHistoryDocument(bundleJSON(items), 'stdout');
    expect(many.map((i) => i.workflowId)).toEqual(items.map((i) => i.workflowId));
    const old = JSON.parse(text) as { events: { eventType: string }[] };
    for (const e of old.events) e.eventType = eventTypeName(e.eventType);
    expect(eventTypeName(historyFromJSON(old).events![0]!.eventType)).toBe('WorkflowExecutionStarted');
    expect(() => parseHistoryDocument('{"foo": 1}', 'bad.json')).toThrow('bad.json: not a workflow history');
    expect(() => parseHistoryDocument('nope', 'bad.json')).toThrow('bad.json: not JSON');
  });
});

describe('nondeterminism messages', () => {
  const arm = () => items.find((i) => i.workflowId === 'replay-smoke/arm/think_base')!.history;

  test('a command missing from the code', () => {
    const id = Number(arm().events!.find((e) => eventTypeName(e.eventType) === 'ActivityTaskScheduled')!.eventId);
    const r = explainNondeterminism(`[TMPRL1100] Nondeterminism error: No command scheduled for event HistoryEvent(id: ${id}, ActivityTaskScheduled)`, arm());
    expect(r).toMatchObject({ eventId: id, eventType: 'ActivityTaskScheduled', produced: 'nothing (no command at this point)' });
    expect(r.expected).toMatch(/^ScheduleActivityTask generate, activity id 'think_base\//);
  });

  test('a command of another kind', () => {
    const sig = arm().events!.find((e) => eventTypeName(e.eventType) === 'SignalExternalWorkflowExecutionInitiated')!;
    const id = Number(sig.eventId);
    const r = explainNondeterminism(`Details: Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: Activity machine does not handle this event: HistoryEvent(id: ${id}, SignalExternalWorkflowExecutionInitiated)", source: "" }) }`, arm());
    expect(r).toMatchObject({ eventId: id, eventType: 'SignalExternalWorkflowExecutionInitiated', produced: 'ScheduleActivityTask' });
    expect(r.expected).toBe("SignalExternalWorkflowExecution, signal 'armProgress' to 'replay-smoke'");
  });

  test('another activity type', () => {
    const r = explainNondeterminism("[TMPRL1100] Nondeterminism error: Activity type of scheduled event 'generate' does not match activity type of activity command 'judge'", arm());
    expect(r).toMatchObject({ eventType: 'ActivityTaskScheduled', produced: "ScheduleActivityTask, activity type 'judge'" });
    expect(r.expected).toMatch(/^ScheduleActivityTask generate/);
  });
});
