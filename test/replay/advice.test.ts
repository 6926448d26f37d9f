/**
 * The advice of `thought-probe debug` for what the e2e tests do not stage: paused activities and paused arms, and
 * failures recorded before the one error hierarchy (no details: the endpoint is read from the message). Advice from
 * the facts of newer failures is in test/unit/diagnose.test.ts.
 */
import { advise, describeHeartbeat, endpointInMessage, shellWord, type WorkflowDiagnosis } from '../../src/diagnose';

function wf(over: Partial<WorkflowDiagnosis>): WorkflowDiagnosis {
  return {
    workflowId: 'r1', type: 'probeRun', status: 'RUNNING', taskQueue: 'thought-probe', failure: [], workflowTaskFailures: [],
    failedActivities: [], pendingActivities: [], pausedArms: [], children: [], ...over,
  };
}

const judge503 = { kind: 'ApplicationFailure', type: 'TransientEndpointError', message: 'judge http://h:1/v1 model "qwen-judge": 503 down' };

test('a paused activity: unpause it with its exact ids, quoted for the shell', () => {
  const arm = wf({
    workflowId: 'r1/arm/think_base', type: 'probeArm',
    pendingActivities: [{ activityId: 'think_base/judge/hist-01/0/blank_thought+15#42', activityType: 'judge', state: 'PAUSED', paused: true, attempt: 7, maximumAttempts: 0, lastFailure: [judge503] }],
  });
  const advice = advise('r1', [wf({ children: ['r1/arm/think_base'] }), arm], true);
  expect(advice.flatMap((a) => a.commands)).toEqual(["temporal activity unpause --workflow-id r1/arm/think_base --activity-id 'think_base/judge/hist-01/0/blank_thought+15#42'"]);
});

test('an arm paused by its outage budget: resume the run', () => {
  const advice = advise('r1', [wf({ pausedArms: [{ arm: 'think_base', endpoint: 'judge', since: '2026-01-01T00:00:00.000Z', message: 'judge down' }] })], true);
  expect(advice).toHaveLength(1);
  expect(advice[0]!.why).toContain('outage budget');
  expect(advice[0]!.commands).toEqual(['thought-probe resume r1']);
});

test('retrying activities: wait and check the endpoint; no worker: start one', () => {
  const arm = wf({ workflowId: 'r1/arm/a', pendingActivities: [{ activityId: 'a/judge/x#1', activityType: 'judge', state: 'SCHEDULED', paused: false, attempt: 3, maximumAttempts: 0, lastFailure: [judge503] }] });
  const advice = advise('r1', [wf({}), arm], false);
  expect(advice.flatMap((a) => a.commands)).toEqual(['curl http://h:1/v1/models', 'thought-probe worker']);
});

test('an arm endpoint refusing the API key: fix the key, then resume with the config', () => {
  const failed = wf({
    status: 'FAILED',
    failure: [{ kind: 'ApplicationFailure', type: 'ArmFailed', message: 'arm think_base: arm think_base http://h:2/v1 model "m": 401 Unauthorized; check the API key' }],
  });
  const [a] = advise('r1', [failed]);
  expect(a!.why).toContain('apiKeyEnv');
  expect(a!.why).toContain('arms[name=think_base]');
  expect(a!.commands).toEqual(['thought-probe resume r1 --config FIXED.yaml']);
});

test('a completed run, a terminated run', () => {
  expect(advise('r1', [wf({ status: 'COMPLETED' })])[0]!.commands).toEqual(['thought-probe result r1']);
  expect(advise('r1', [wf({ status: 'TERMINATED' })])[0]!.commands).toEqual(['thought-probe resume r1']);
});

test('helpers', () => {
  expect(endpointInMessage('arm think_base: judge http://127.0.0.1:9/v1 model "qwen-jugde": 404 nope')).toEqual({ role: 'judge', baseURL: 'http://127.0.0.1:9/v1', model: 'qwen-jugde', status: 404 });
  expect(shellWord("it's")).toBe(`'it'\\''s'`);
  expect(describeHeartbeat({ done: [[0, { ok: true, value: 1 }], [2, { ok: false, error: 'x' }]], outageSince: 0, lastError: 'boom' })).toBe(
    '2 requests checkpointed (1 ok, 1 failed for their sample); endpoint failing since 1970-01-01T00:00:00.000Z; last error: boom',
  );
  expect(describeHeartbeat(undefined)).toBeUndefined();
});
