/**
 * Diagnosis from what failures say about themselves: each failure chain is built from our error classes, encoded
 * by the SDK's failure converter as a worker would record it, and read back from a history (for `debug`) or from
 * the client's WorkflowFailedError (for `run` and `result`). Old failures without details still get advice.
 */
import { WorkflowFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ChildWorkflowFailure,
  defaultFailureConverter,
  defaultPayloadConverter,
  RetryState,
  type ApplicationFailure,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { RunFailedError } from '../../src/cli/errors';
import { advise, diagnoseHistory, errorChain, failureChain, pendingActivitiesOf, renderDiagnosis, rootCause, type WorkflowDiagnosis } from '../../src/diagnose';
import { ArmFailedError, FatalEndpointError, InternalError, InvalidConfigError, MissingApiKeyError, TransientEndpointError } from '../../src/errors';

const judge = { role: 'judge', baseURL: 'http://h:1/v1', model: 'qwen-jugde' };
const arm = { role: 'arm think_base', baseURL: 'http://h:2/v1', model: 'think_base' };

/** A run's failure as probeRun records it: the arm child's failure, whose cause is the activity's. */
function runFailure(activityFailure: ApplicationFailure): Error {
  const activity = new ActivityFailure('Activity task failed', 'judge', 'think_base/judge/hist-01/0/blank_thought+1#4', RetryState.NON_RETRYABLE_FAILURE, 'w1', activityFailure);
  const armFailed = new ArmFailedError('think_base', activityFailure.message, activity).toFailure();
  return new ChildWorkflowFailure('default', { workflowId: 'r1/arm/think_base', runId: 'x' }, 'probeArm', RetryState.NON_RETRYABLE_FAILURE, armFailed);
}

/** The proto failure a worker records for an error. */
function recorded(err: Error): temporal.api.failure.v1.IFailure {
  return defaultFailureConverter.errorToFailure(err, defaultPayloadConverter);
}

/** A failed run's workflow, read from a one-event history. */
function failedRun(err: Error): WorkflowDiagnosis {
  const history = {
    events: [{ eventId: 1, eventType: temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, workflowExecutionFailedEventAttributes: { failure: recorded(err) } }],
  };
  return { workflowId: 'r1', type: 'probeRun', status: 'FAILED', taskQueue: 'thought-probe', pendingActivities: [], ...diagnoseHistory(history as never) };
}

/** What `run` and `result` print for a run that failed with this error, through the client's decoding. */
function cliReport(err: Error): string {
  const decoded = defaultFailureConverter.failureToError(recorded(err), defaultPayloadConverter);
  const e = new WorkflowFailedError('Workflow execution failed', decoded, RetryState.NON_RETRYABLE_FAILURE);
  return new RunFailedError('r1', rootCause(errorChain(e)), { cause: e }).render();
}

describe('a FatalEndpointError 404 with its details', () => {
  const err = runFailure(new FatalEndpointError(judge, 404, 'The model `qwen-jugde` does not exist.', 'judge').toFailure());

  test('the chain keeps its facts and its root cause is the 404, not the ArmFailed wrapper', () => {
    const chain = failureChain(recorded(err));
    expect(chain.map((l) => l.type ?? l.kind)).toEqual(['ChildWorkflowFailure', 'ArmFailed', 'ActivityFailure', 'FatalEndpointError']);
    expect(chain[3]!.facts).toEqual({ endpoint: judge, status: 404, field: 'judge.model', fix: 'check the model name and baseURL (GET http://h:1/v1/models lists what it serves)' });
    expect(rootCause(chain)?.type).toBe('FatalEndpointError');
  });

  test('debug: the endpoint, the model, the 404, the field to fix, and resume with the fixed config', () => {
    const run = failedRun(err);
    const advice = advise('r1', [run]);
    expect(advice).toHaveLength(1);
    expect(advice[0]!.why).toContain('the judge endpoint http://h:1/v1 rejected model "qwen-jugde" with 404 for good');
    expect(advice[0]!.why).toContain('fix judge.model (or judge.baseURL) in the config: `curl http://h:1/v1/models` lists what it serves');
    expect(advice[0]!.commands).toEqual(['thought-probe resume r1 --config FIXED.yaml']);
    const text = renderDiagnosis({ runId: 'r1', workflows: [run], advice });
    expect(text).toContain('failing endpoint: judge endpoint http://h:1/v1 model "qwen-jugde": 404');
    expect(text).toContain('<- ApplicationFailure FatalEndpointError (non-retryable): judge http://h:1/v1 model "qwen-jugde": 404');
  });

  test('run and result: the root cause, its fix once, and the debug command', () => {
    expect(cliReport(err)).toBe(
      [
        'error: run r1 failed: FatalEndpointError: judge http://h:1/v1 model "qwen-jugde": 404 The model `qwen-jugde` does not exist.',
        '  fix judge.model: check the model name and baseURL (GET http://h:1/v1/models lists what it serves)',
        '  what happened and what to do next: thought-probe debug r1',
        '',
      ].join('\n'),
    );
  });
});

describe('a MissingApiKeyError', () => {
  const err = runFailure(new MissingApiKeyError('THINK_KEY', arm, 'worker-7@gpu-host-2', 'arms[name=think_base]').toFailure());

  test('debug: which variable to export on which worker, then resume the run as it was', () => {
    const [a, ...rest] = advise('r1', [failedRun(err)]);
    expect(rest).toEqual([]);
    expect(a!.why).toContain('worker worker-7@gpu-host-2 has no THINK_KEY, the API key that arms[name=think_base].apiKeyEnv names for the arm think_base endpoint http://h:2/v1');
    expect(a!.why).toContain('export THINK_KEY where that worker runs and restart it');
    expect(a!.commands).toEqual(['export THINK_KEY=...', 'thought-probe resume r1']);
  });

  test('run and result: the variable, the worker, the fix and the debug command', () => {
    const out = cliReport(err);
    expect(out).toContain('error: run r1 failed: MissingApiKeyError: environment variable THINK_KEY (arms[name=think_base].apiKeyEnv');
    expect(out).toContain('is not set on worker worker-7@gpu-host-2');
    expect(out).toContain('  fix arms[name=think_base].apiKeyEnv: export THINK_KEY=... before `thought-probe worker`');
    expect(out).toContain('  what happened and what to do next: thought-probe debug r1');
  });
});

describe('an InternalError', () => {
  const bug = new TypeError("Cannot read properties of undefined (reading 'prefix')");
  const err = runFailure(new InternalError('judge', bug).toFailure());

  test('debug: a bug, to report with the debug output, not an outage or a config problem', () => {
    const [a, ...rest] = advise('r1', [failedRun(err)]);
    expect(rest).toEqual([]);
    expect(a!.why).toContain('a bug in thought-probe ended the run (bug in judge: TypeError: Cannot read properties of undefined');
    expect(a!.why).toContain('it is not an outage and no config fixes it');
    expect(a!.why).toContain('Report it with this debug output');
    expect(a!.commands).toEqual(['thought-probe debug r1 --json > debug-r1.json', 'thought-probe resume r1']);
  });

  test('run and result name the bug itself, not the TypeError it wraps as a cause', () => {
    const out = cliReport(err);
    expect(out).toMatch(/^error: run r1 failed: InternalError: bug in judge: TypeError: Cannot read properties/);
    expect(out).toContain('thought-probe debug r1');
  });
});

test('an InvalidConfig: its problems, config check, then resume with the fixed config', () => {
  const err = new InvalidConfigError('config: 1 problem', ['judge.model: required']).toFailure();
  const [a] = advise('r1', [failedRun(err)]);
  expect(a!.why).toContain("the run's config is invalid: judge.model: required");
  expect(a!.commands).toEqual(['thought-probe config check FIXED.yaml', 'thought-probe resume r1 --config FIXED.yaml']);
  expect(cliReport(err)).toContain('error: run r1 failed: InvalidConfig: config: 1 problem\n  judge.model: required\n');
});

test('an old-style failure without details: the 404 and the endpoint are read from the message', () => {
  // As recorded before src/errors: ArmFailed dropped its cause and carried no details.
  const old: temporal.api.failure.v1.IFailure = {
    message: 'Child Workflow execution failed',
    childWorkflowExecutionFailureInfo: { workflowExecution: { workflowId: 'r1/arm/think_base' }, workflowType: { name: 'probeArm' } },
    cause: { message: 'arm think_base: judge http://h:1/v1 model "qwen-jugde": 404 not found; check the model name', applicationFailureInfo: { type: 'ArmFailed', nonRetryable: true } },
  };
  const chain = failureChain(old);
  expect(chain[1]!.facts).toBeUndefined();
  const run: WorkflowDiagnosis = { workflowId: 'r1', type: 'probeRun', status: 'FAILED', taskQueue: 'thought-probe', failure: chain, workflowTaskFailures: [], failedActivities: [], pendingActivities: [], pausedArms: [], children: [] };
  const [a] = advise('r1', [run]);
  expect(a!.why).toContain('the judge endpoint http://h:1/v1 rejected model "qwen-jugde" with 404 for good; fix judge.model');
  expect(a!.commands).toEqual(['thought-probe resume r1 --config FIXED.yaml']);
  expect(renderDiagnosis({ runId: 'r1', workflows: [run], advice: [a!] })).toContain('failing endpoint: judge endpoint http://h:1/v1 model "qwen-jugde": 404');
});

test('a retrying activity: its state, checkpoint and last failure decoded once, its endpoint read from its facts', () => {
  const raw = {
    pendingActivities: [
      {
        activityId: 'think_base/judge/x#1',
        activityType: { name: 'judge' },
        state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
        attempt: 3,
        lastFailure: recorded(new TransientEndpointError({ ...judge, baseURL: 'http://elsewhere:9/v1' }, 'Service Unavailable', 503).toFailure()),
        heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload({ done: [[0, { ok: true }]], outageSince: 0 })] },
      },
    ],
  };
  const pending = pendingActivitiesOf(raw as never);
  expect(pending[0]).toMatchObject({ state: 'SCHEDULED', attempt: 3, checkpoint: { done: 1, ok: 1, outageSince: '1970-01-01T00:00:00.000Z' } });
  expect(pending[0]!.lastFailure![0]!.facts).toMatchObject({ status: 503, endpoint: { baseURL: 'http://elsewhere:9/v1' } });
  const running: WorkflowDiagnosis = { workflowId: 'r1/arm/think_base', type: 'probeArm', status: 'RUNNING', taskQueue: 'thought-probe', failure: [], workflowTaskFailures: [], failedActivities: [], pendingActivities: pending, pausedArms: [], children: [] };
  expect(advise('r1', [running], true).flatMap((a) => a.commands)).toEqual(['curl http://elsewhere:9/v1/models']);
});
