/**
 * The error hierarchy: each class's failure type and retry behaviour, and how the activity boundary classifies what
 * it meets (the openai client's own error objects, Node system errors, anything else).
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { callEndpoint, classifyActivityError, classifyEndpointError, toActivityFailure, type Endpoint } from '../../src/activities/classify';
import { ModelClients } from '../../src/activities/clients';
import { StallError } from '../../src/activities/stream';
import {
  ArmFailedError,
  ArmStoppedError,
  BadRequestError,
  SourceThoughtFailedError,
  ERROR_TYPES,
  FatalEndpointError,
  InternalError,
  InvalidConfigError,
  MissingApiKeyError,
  MissingStoredInputError,
  MissingStoreUrlError,
  StoreAccessDeniedError,
  InvalidCodecKeysError,
  CodecKeyMissingError,
  NON_RETRYABLE_TYPES,
  OutageBudgetExceededError,
  ProbeError,
  RateLimitError,
  RunDirectoryConflictError,
  StoreUnavailableError,
  TransientEndpointError,
  behaviourOf,
  isFatal,
  isRetryable,
} from '../../src/errors';

const ep: Endpoint = { role: 'judge', baseURL: 'http://127.0.0.1:9/v1', model: 'qwen-judge', field: 'judge' };
const ref = { role: ep.role, baseURL: ep.baseURL, model: ep.model };

function apiError(status: number, headers: Record<string, string> = {}): InstanceType<typeof OpenAI.APIError> {
  return OpenAI.APIError.generate(status, { error: { message: `simulated ${status}` } }, undefined, new Headers(headers));
}

describe('classes: type, behaviour, failure', () => {
  const cases: [ProbeError, string, string, boolean][] = [
    [new TransientEndpointError(ref, 'Service Unavailable', 503), 'TransientEndpointError', 'retry', false],
    [new RateLimitError(ref, 'slow down', 3000), 'RateLimitError', 'retry-after', false],
    [new BadRequestError(ref, 400, 'prompt too long'), 'BadRequestError', 'sample', true],
    [new SourceThoughtFailedError('the thought p1/0 of arm b failed: 400'), 'SourceThoughtFailed', 'sample', true],
    [new FatalEndpointError(ref, 404, 'no such model', 'judge'), 'FatalEndpointError', 'fatal', true],
    [new MissingApiKeyError('JUDGE_KEY', ref, '12@host', 'judge'), 'MissingApiKeyError', 'fatal', true],
    [new OutageBudgetExceededError(ref, Date.UTC(2026, 0, 1), 60, 'judge ...: 503'), 'OutageBudgetExceeded', 'pause', true],
    [new RunDirectoryConflictError('runs/x already holds another run'), 'RunDirectoryConflict', 'fatal', true],
    [new InvalidConfigError('arms: required', ['arms: required']), 'InvalidConfig', 'fatal', true],
    [new MissingStoredInputError('thought p1/0 of arm a', '12@host'), 'MissingStoredInput', 'fatal', true],
    [new MissingStoreUrlError('THOUGHT_PROBE_DATABASE_URL', 'in this process (12@host)'), 'MissingStoreUrl', 'fatal', true],
    [new StoreAccessDeniedError('the store refused the password', 'THOUGHT_PROBE_DATABASE_URL', 'check the password'), 'StoreAccessDenied', 'fatal', true],
    [new StoreUnavailableError('store: ENOSPC'), 'StoreUnavailable', 'retry', false],
    [new InvalidCodecKeysError('THOUGHT_PROBE_CODEC_KEYS', 'entry 1 has no id'), 'InvalidCodecKeys', 'fatal', true],
    [new CodecKeyMissingError('THOUGHT_PROBE_CODEC_KEYS', 'k2', ['k1'], 'in this process'), 'CodecKeyMissing', 'fatal', true],
    [new InternalError('judge', new TypeError('x is undefined')), 'InternalError', 'fatal', true],
    [new ArmFailedError('a', 'judge ...: 404', new Error('cause')), 'ArmFailed', 'fatal', true],
    [new ArmStoppedError('a', 'arm b failed'), 'ArmStopped', 'fatal', true],
  ];
  test.each(cases)('%s', (err, type, behaviour, nonRetryable) => {
    expect(err.type).toBe(type);
    expect(err.behaviour).toBe(behaviour);
    expect(behaviourOf(type)).toBe(behaviour);
    const f = err.toFailure();
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe(type);
    expect(f.nonRetryable).toBe(nonRetryable);
    expect(f.message).toBe(err.message);
  });

  test('every class is in the table, and the table has nothing else', () => {
    expect(cases.map((c) => c[1]).sort()).toEqual(Object.keys(ERROR_TYPES).sort());
  });

  test('the retry policies list only types the activities already fail for good', () => {
    for (const t of NON_RETRYABLE_TYPES) expect(isRetryable(t)).toBe(false);
    expect(isRetryable('TransientEndpointError')).toBe(true);
    // A type that is not ours is never retried on our say-so.
    expect(isRetryable('Error')).toBe(false);
    expect(isFatal('FatalEndpointError')).toBe(true);
    expect(isFatal('TransientEndpointError')).toBe(false);
  });

  test('facts travel as the failure details: endpoint, status, the field and the fix', () => {
    const f = new FatalEndpointError(ref, 401, 'Incorrect API key', 'arms[name=think_base]').toFailure();
    expect(f.details?.[0]).toEqual({ endpoint: ref, status: 401, field: 'arms[name=think_base].apiKeyEnv', fix: expect.stringContaining('apiKeyEnv') });
    const m = new MissingApiKeyError('JUDGE_KEY', ref, '12@gpu-host-2', 'judge');
    expect(m.message).toContain('JUDGE_KEY');
    expect(m.message).toContain(ep.baseURL);
    expect(m.message).toContain('12@gpu-host-2');
    expect(m.toFailure().details?.[0]).toMatchObject({ envVar: 'JUDGE_KEY', worker: '12@gpu-host-2', field: 'judge.apiKeyEnv' });
  });

  test('a rate limit waits for Retry-After (at least a second)', () => {
    expect(new RateLimitError(ref, 'x', 3000).toFailure().nextRetryDelay).toBe(3000);
    expect(new RateLimitError(ref, 'x', 10).toFailure().nextRetryDelay).toBe(1000);
    expect(new RateLimitError(ref, 'x').toFailure().nextRetryDelay).toBeUndefined();
  });

  test('InvalidConfig keeps its problems as the one detail, as histories have it', () => {
    expect(new InvalidConfigError('bad', ['a: x', 'b: y']).toFailure().details).toEqual([['a: x', 'b: y']]);
  });

  test('ArmFailed keeps its cause', () => {
    const cause = new FatalEndpointError(ref, 404, 'no such model', 'judge').toFailure();
    expect(new ArmFailedError('a', cause.message, cause).toFailure().cause).toBe(cause);
  });
});

describe('a model call: everything it throws is about the endpoint', () => {
  test.each([
    [401, 'FatalEndpointError'],
    [403, 'FatalEndpointError'],
    [404, 'FatalEndpointError'],
    [400, 'BadRequestError'],
    [422, 'BadRequestError'],
    [408, 'TransientEndpointError'],
    [409, 'TransientEndpointError'],
    [429, 'RateLimitError'],
    [500, 'TransientEndpointError'],
    [503, 'TransientEndpointError'],
  ])('HTTP %i is %s', (status, type) => {
    const c = classifyEndpointError(apiError(status), ep);
    expect(c.type).toBe(type);
    expect(c.facts).toMatchObject({ endpoint: ref, status });
    // One status in the message, not "404 404 ...".
    expect(c.message).toContain(`${status} simulated ${status}`);
  });

  test('429 reads Retry-After in seconds and as a date', () => {
    expect((classifyEndpointError(apiError(429, { 'retry-after': '3' }), ep) as RateLimitError).retryAfterMs).toBe(3000);
    const at = new Date(Date.now() + 5000).toUTCString();
    const ms = (classifyEndpointError(apiError(429, { 'retry-after': at }), ep) as RateLimitError).retryAfterMs!;
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
  });

  test('connection errors, timeouts, stalls and broken bodies are transient', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    for (const e of [new OpenAI.APIConnectionError({ cause: refused }), new OpenAI.APIConnectionTimeoutError(), new StallError(30), new SyntaxError('Unexpected end of JSON input')]) {
      await expect(callEndpoint(ep, () => Promise.reject(e))).rejects.toBeInstanceOf(TransientEndpointError);
    }
    await expect(callEndpoint(ep, () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })))).rejects.toThrow(/ECONNRESET/);
  });
});

describe('outside a model call: ours pass, a store fault is retried, the rest is a bug', () => {
  test('our errors pass as they are', () => {
    const e = new MissingStoredInputError('suffix p/0/blank_thought of arm a');
    expect(classifyActivityError(e, 'judge')).toBe(e);
  });

  test('a full disk or exhausted descriptors are retried', () => {
    for (const code of ['ENOSPC', 'EMFILE', 'EIO']) {
      const c = classifyActivityError(Object.assign(new Error(`${code}: no space left`), { code }), 'generate');
      expect(c).toBeInstanceOf(StoreUnavailableError);
      expect(c.retryable).toBe(true);
    }
  });

  test('a plain Error or TypeError fails for good, naming the activity and the place', () => {
    const f = toActivityFailure(new TypeError("Cannot read properties of undefined (reading 'thought')"), 'judge') as ApplicationFailure;
    expect(f.type).toBe('InternalError');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/^bug in judge: TypeError: Cannot read properties of undefined/);
    expect(f.message).toMatch(/errors\.test\.ts/);
    // A plain Error (such as the old "not in the store yet") is not an outage either.
    expect((toActivityFailure(new Error('not in the store yet'), 'generate') as ApplicationFailure).nonRetryable).toBe(true);
  });

  test("Temporal's own failures pass through", () => {
    const a = ApplicationFailure.retryable('x', 'Whatever');
    const c = new CancelledFailure('cancelled');
    expect(toActivityFailure(a, 'judge')).toBe(a);
    expect(toActivityFailure(c, 'judge')).toBe(c);
  });
});

describe('model clients', () => {
  test('a missing key names the variable, the endpoint and the worker', () => {
    const clients = new ModelClients('4242@gpu-host-2', {});
    expect(() => clients.for(ep, 'JUDGE_API_KEY', 1000)).toThrow(MissingApiKeyError);
    expect(() => clients.for(ep, 'JUDGE_API_KEY', 1000)).toThrow(/JUDGE_API_KEY .*judge\.apiKeyEnv.*127\.0\.0\.1:9.*4242@gpu-host-2/);
  });

  test('a set key gives one client per endpoint, without retries of its own', () => {
    const clients = new ModelClients('w', { JUDGE_API_KEY: 'sk-test' });
    const c = clients.for(ep, 'JUDGE_API_KEY', 1000);
    expect(clients.for(ep, 'JUDGE_API_KEY', 1000)).toBe(c);
    expect(c.apiKey).toBe('sk-test');
    expect(c.maxRetries).toBe(0);
  });
});
