/**
 * Errors that must end a run at once, on a real dev server with the real openai client over HTTP to the simulated
 * servers: a 401 from the judge, an API key missing on the worker, and a bug in an activity. Each is counted: the
 * failure chain names what happened (the run's failure keeps the arm's, which keeps the activity's), the activity
 * was not retried, and the endpoints saw no more calls than were in flight.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { FileRunStore, processStores, refOf, type RunStore } from '../../src/store';
import type { DatasetRow } from '../../src/config/schema';
import { probeRun } from '../../src/workflows';
import { simConfig } from '../helpers/configs';
import { withServerAndSim, withWorkers } from '../helpers/temporal';

const t = withServerAndSim();

beforeEach(() => {
  t.sim.setFaults([]);
  t.sim.resetStats();
});

/** The failure chain of an error: each link's class and, for application failures, type and details. */
interface Link {
  link: string;
  message: string;
  type?: string;
  details?: unknown[];
  retryState?: RetryState | null;
}
function chain(err: unknown): Link[] {
  const out: Link[] = [];
  for (let e = err as Error | undefined; e; e = (e as Error & { cause?: Error }).cause) {
    out.push({
      link: e.constructor.name,
      message: e.message,
      ...(e instanceof ApplicationFailure ? { type: e.type ?? undefined, details: e.details ?? undefined } : {}),
      ...(e instanceof ActivityFailure || e instanceof ChildWorkflowFailure ? { retryState: e.retryState } : {}),
    });
  }
  return out;
}

async function failedRun(config: Parameters<typeof probeRun>[0], id: string, opts: Parameters<typeof withWorkers>[3] = {}): Promise<{ err: unknown; ms: number }> {
  return withWorkers(
    t.env, t.workflowBundle,
    async () => {
      const started = Date.now();
      const err = await t.env.client.workflow.execute(probeRun, { args: [config], workflowId: `${id}-${started}`, taskQueue: 'thought-probe' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      return { err, ms: Date.now() - started };
    },
    opts,
  );
}

test('a 401 from the judge fails the run at once, naming the endpoint and the key to fix', async () => {
  t.sim.setFaults([{ kind: '401', model: 'qwen-judge' }]);
  const config = simConfig(t.sim.url, { judge: { baseURL: t.sim.url, model: 'qwen-judge', maxConcurrency: 4, apiKeyEnv: 'PATH' } });
  const { err } = await failedRun(config, 'errors-401');
  const links = chain(err);
  expect(links.map((l) => l.type ?? l.link)).toEqual(['WorkflowFailedError', 'ChildWorkflowFailure', 'ArmFailed', 'ActivityFailure', 'FatalEndpointError']);
  const fatal = links.at(-1)!;
  expect(fatal.details?.[0]).toMatchObject({ endpoint: { role: 'judge', baseURL: t.sim.url, model: 'qwen-judge' }, status: 401, field: 'judge.apiKeyEnv' });
  expect(links[3]!.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
  const judge = t.sim.stats().models['qwen-judge']!;
  // Not retried: at most the judge's slots were asked before the run stopped, every one answered 401.
  expect(judge.requests).toBeGreaterThan(0);
  expect(judge.requests).toBeLessThanOrEqual(config.judge.maxConcurrency);
}, 120_000);

test('an API key missing on the worker fails the run at once, naming the variable, the endpoint and the worker', async () => {
  const missing = 'THOUGHT_PROBE_TEST_KEY_THAT_IS_NOT_SET';
  delete process.env[missing];
  const base = simConfig(t.sim.url);
  const config = { ...base, arms: base.arms.map((a) => ({ ...a, apiKeyEnv: missing })) };
  const { err, ms } = await failedRun(config, 'errors-missing-key', { identity: 'test-worker@gpu-host-2' });
  const links = chain(err);
  const last = links.at(-1)!;
  expect(last.type).toBe('MissingApiKeyError');
  // At once: the judge batches waiting for suffixes are called off instead of waiting for them to give up (30 s).
  expect(ms).toBeLessThan(20_000);
  expect(last.details?.[0]).toMatchObject({ envVar: missing, worker: 'test-worker@gpu-host-2', field: 'arms[name=think_base].apiKeyEnv', endpoint: { baseURL: t.sim.url } });
  expect(links.find((l) => l.link === 'ActivityFailure')!.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
  expect(last.message).toContain(missing);
  // No model call was made without its key.
  expect(t.sim.stats().models.think_base?.requests ?? 0).toBe(0);
}, 120_000);

test('a bug in an activity fails the run as InternalError on its first attempt, never as an outage', async () => {
  // A store whose row lookup throws a TypeError, as a bug in our own code would.
  class BuggyStore extends FileRunStore {
    override async row(_prefixId: string): Promise<DatasetRow> {
      throw new TypeError("Cannot read properties of undefined (reading 'prefix')");
    }
  }
  const config = simConfig(t.sim.url);
  const opened: RunStore[] = [];
  const { err } = await failedRun(config, 'errors-bug', {
    deps: {
      stores: {
        // prepareRun and writeArtifacts keep the real store; generation and judging get the buggy one.
        open: (address) => {
          const s = opened.length === 0 ? processStores.open(address) : new BuggyStore((refOf(address) as { dir: string }).dir);
          opened.push(s);
          return s;
        },
        release: (address) => processStores.release(address),
      },
    },
  });
  const links = chain(err);
  // The InternalError keeps the original TypeError (with its stack) as its cause.
  expect(links.map((l) => l.type ?? l.link).slice(2)).toEqual(['ArmFailed', 'ActivityFailure', 'InternalError', 'TemporalFailure']);
  expect(links.find((l) => l.link === 'ActivityFailure')!.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
  expect(links[4]!.message).toMatch(/^bug in generate \(arm think_base\): TypeError: Cannot read properties of undefined \(reading 'prefix'\)/);
  expect(t.sim.stats().models.think_base?.requests ?? 0).toBe(0);
}, 120_000);
