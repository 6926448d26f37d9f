// The one error hierarchy of thought-probe. Every error an activity or workflow raises on purpose is one of these
// classes; each names what happened and carries its retry behaviour, so Temporal's retry policies, the workflows,
// `status` and `debug` all read the same facts. Workflow-safe: no Node built-ins, no model client.
import { ApplicationFailure } from '@temporalio/common';

/** Where a request went, for messages that name the endpoint and the model. */
export interface EndpointRef {
  role: string;
  baseURL: string;
  model: string;
}

/**
 * What the run does about an error:
 * - `retry`: Temporal retries the activity with capped backoff, without limit (an outage waits);
 * - `retry-after`: retried, the next attempt no sooner than the server asked;
 * - `sample`: that sample's record carries the error and the run goes on;
 * - `pause`: the arm stops scheduling until `resume`;
 * - `fatal`: the run fails at once.
 */
export type Behaviour = 'retry' | 'retry-after' | 'sample' | 'pause' | 'fatal';

/** What a failure's details say about it, for `status` and `debug` (they read these, not the message). */
export interface ErrorFacts {
  endpoint?: EndpointRef;
  status?: number;
  envVar?: string;
  worker?: string;
  since?: number;
  lastError?: string;
  /** The configuration field to fix, as `path.to.field`. */
  field?: string;
  fix?: string;
}

/** The base of every error thrown on purpose: its failure type, its behaviour, and the facts behind it. */
export abstract class ProbeError extends Error {
  /** The ApplicationFailure type this error travels as (stable across versions: histories name it). */
  abstract readonly type: ErrorTypeName;
  readonly facts: ErrorFacts;

  constructor(message: string, facts: ErrorFacts = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.facts = facts;
  }

  /** How the run handles this error. */
  get behaviour(): Behaviour {
    return ERROR_TYPES[this.type].behaviour;
  }

  /** Whether Temporal may retry the activity that threw it. */
  get retryable(): boolean {
    return isRetryable(this.type);
  }

  /** The failure an activity throws for it. */
  toFailure(): ApplicationFailure {
    return ApplicationFailure.create({
      message: this.message,
      type: this.type,
      nonRetryable: !this.retryable,
      details: [this.facts],
      ...(this.cause instanceof Error ? { cause: this.cause } : {}),
    });
  }
}

function where(ep: EndpointRef): string {
  return `${ep.role} ${ep.baseURL} model "${ep.model}"`;
}

/** Connection refused or reset, timeouts, 408, 409, 5xx, broken or truncated bodies, stalled streams. */
export class TransientEndpointError extends ProbeError {
  readonly type = 'TransientEndpointError';
  constructor(ep: EndpointRef, detail: string, status?: number) {
    super(`${where(ep)}: ${status !== undefined ? `${status} ` : ''}${detail}`, { endpoint: ep, ...(status !== undefined ? { status } : {}) });
    this.name = 'TransientEndpointError';
  }
}

/** 429: the endpoint asked to slow down; retried no sooner than its Retry-After. */
export class RateLimitError extends ProbeError {
  readonly type = 'RateLimitError';
  readonly retryAfterMs: number | undefined;
  constructor(ep: EndpointRef, detail: string, retryAfterMs?: number) {
    super(`${where(ep)}: 429 ${detail}`, { endpoint: ep, status: 429 });
    this.name = 'RateLimitError';
    this.retryAfterMs = retryAfterMs;
  }

  override toFailure(): ApplicationFailure {
    return ApplicationFailure.create({
      message: this.message,
      type: this.type,
      nonRetryable: false,
      details: [this.facts],
      ...(this.retryAfterMs !== undefined ? { nextRetryDelay: Math.max(1000, Math.ceil(this.retryAfterMs)) } : {}),
    });
  }
}

/** 400 and other 4xx (for example a prompt too long): this sample's request cannot succeed; its record says why. */
export class BadRequestError extends ProbeError {
  readonly type = 'BadRequestError';
  constructor(ep: EndpointRef, status: number, detail: string) {
    super(`${where(ep)}: ${status} ${detail}`, { endpoint: ep, status });
    this.name = 'BadRequestError';
  }
}

/**
 * The thought another slot or arm gave this sample failed for its own sample (a transplant from an arm whose
 * thought got a 400): this sample cannot be made either; its record says why.
 */
export class SourceThoughtFailedError extends ProbeError {
  readonly type = 'SourceThoughtFailed';
  constructor(what: string) {
    super(what);
    this.name = 'SourceThoughtFailedError';
  }
}

/** 401, 403, 404: a bad key, a wrong model name or URL. No retry can fix it; the run fails naming the fix. */
export class FatalEndpointError extends ProbeError {
  readonly type = 'FatalEndpointError';
  constructor(ep: EndpointRef, status: number, detail: string, field: string) {
    const fix =
      status === 404
        ? `check the model name and baseURL (GET ${ep.baseURL}/models lists what it serves)`
        : 'check the API key in the environment variable named by apiKeyEnv';
    super(`${where(ep)}: ${status} ${detail}; ${fix}`, { endpoint: ep, status, field: status === 404 ? `${field}.model` : `${field}.apiKeyEnv`, fix });
    this.name = 'FatalEndpointError';
  }
}

/** The environment variable that a config's apiKeyEnv names is not set on the worker that would call the endpoint. */
export class MissingApiKeyError extends ProbeError {
  readonly type = 'MissingApiKeyError';
  constructor(envVar: string, ep: EndpointRef, worker: string, field: string) {
    super(
      `environment variable ${envVar} (${field}.apiKeyEnv, the key for ${where(ep)}) is not set on worker ${worker}; export it and restart that worker, then resume the run`,
      { endpoint: ep, envVar, worker, field: `${field}.apiKeyEnv`, fix: `export ${envVar}=... before \`thought-probe worker\`` },
    );
    this.name = 'MissingApiKeyError';
  }
}

/** An endpoint has failed for longer than its outage budget (maxOutageSeconds): the arm pauses until `resume`. */
export class OutageBudgetExceededError extends ProbeError {
  readonly type = 'OutageBudgetExceeded';
  constructor(ep: EndpointRef, since: number, budgetSeconds: number, lastError: string | undefined) {
    super(
      `${ep.role} ${ep.baseURL} has been failing since ${new Date(since).toISOString()}, longer than maxOutageSeconds ${budgetSeconds}: ${lastError ?? ''}`,
      { endpoint: ep, since, ...(lastError !== undefined ? { lastError } : {}) },
    );
    this.name = 'OutageBudgetExceededError';
  }
}

/** The run's place in the store already holds a different run, or a run to resume from is not there. */
export class RunDirectoryConflictError extends ProbeError {
  readonly type = 'RunDirectoryConflict';
  constructor(message: string) {
    super(message, { field: 'output.dir', fix: 'choose another run name or output.dir' });
    this.name = 'RunDirectoryConflictError';
  }
}

/** The run's config does not validate (it reached the workflow without `thought-probe config check`). */
export class InvalidConfigError extends ProbeError {
  readonly type = 'InvalidConfig';
  readonly problems: string[];
  constructor(message: string, problems: string[] = []) {
    super(message, { fix: 'run `thought-probe config check` on the config and fix each field it names' });
    this.name = 'InvalidConfigError';
    this.problems = problems;
  }

  override toFailure(): ApplicationFailure {
    // The problems travel as the details, as they always have (debug and old histories read them there).
    return ApplicationFailure.create({ message: this.message, type: this.type, nonRetryable: true, details: [this.problems] });
  }
}

/**
 * Something the schedule says exists is not in the run's store: the store is not shared by the workers that
 * need it, or it was lost. Retrying on the same worker cannot make it appear.
 */
export class MissingStoredInputError extends ProbeError {
  readonly type = 'MissingStoredInput';
  constructor(what: string, worker?: string) {
    super(`${what} is not in the run's store as seen by ${worker ? `worker ${worker}` : 'this worker'}: the workers of this run do not share one store, or it was lost`, {
      ...(worker ? { worker } : {}),
      fix: 'give every worker of the run the same store (store.kind, output.dir)',
    });
    this.name = 'MissingStoredInputError';
  }
}

/**
 * The run's store is in PostgreSQL but the variable holding its URL is not set in this process (a worker, or the
 * CLI). Like a missing API key, no retry here can fix it.
 */
export class MissingStoreUrlError extends ProbeError {
  readonly type = 'MissingStoreUrl';
  constructor(envVar: string, where: string) {
    super(`the run's store is in PostgreSQL, but ${envVar} is not set ${where}: export ${envVar}=postgres://... (the store's URL) there, then resume the run`, {
      envVar,
      field: 'store.urlEnv',
      fix: `export ${envVar}=postgres://USER:PASSWORD@HOST:PORT/DATABASE where the worker or CLI runs`,
    });
    this.name = 'MissingStoreUrlError';
  }
}

/**
 * The store's database refused this process: wrong user or password, or no such database. Waiting cannot fix a
 * URL, so the run fails at once naming the variable, never its value.
 */
export class StoreAccessDeniedError extends ProbeError {
  readonly type = 'StoreAccessDenied';
  constructor(message: string, envVar: string, fix: string) {
    super(message, { envVar, field: 'store.urlEnv', fix });
    this.name = 'StoreAccessDeniedError';
  }
}

/** THOUGHT_PROBE_CODEC_KEYS is set but is not `id=<base64 32-byte key>[,id=<key>...]`; the message never holds a key. */
export class InvalidCodecKeysError extends ProbeError {
  readonly type = 'InvalidCodecKeys';
  constructor(envVar: string, problem: string) {
    super(`${envVar}: ${problem}; set it to id=<base64 of 32 random bytes>[,id=<key>...] (the first encrypts, all decrypt), e.g. ${envVar}=k1=$(openssl rand -base64 32)`, {
      envVar,
      fix: `export ${envVar}=k1=$(openssl rand -base64 32)`,
    });
    this.name = 'InvalidCodecKeysError';
  }
}

/**
 * A payload is encrypted with a key id that this process does not hold (or is not encrypted by our codec at all and
 * no key is set here): no retry can fix it, only the key can.
 */
export class CodecKeyMissingError extends ProbeError {
  readonly type = 'CodecKeyMissing';
  constructor(envVar: string, keyId: string, held: string[], where: string) {
    super(
      held.length
        ? `a payload is encrypted with key id "${keyId}", which ${envVar} does not hold ${where} (it holds ${held.map((h) => `"${h}"`).join(', ')}): add ${keyId}=<its key> to ${envVar} there`
        : `a payload is encrypted with key id "${keyId}", but ${envVar} is not set ${where}: export ${envVar} with ${keyId}=<its key> there`,
      { envVar, fix: `add ${keyId}=<its base64 key> to ${envVar} where the worker or CLI runs` },
    );
    this.name = 'CodecKeyMissingError';
  }
}

/** The store could not be read or written for now (disk full, too many open files, a database down): retried. */
export class StoreUnavailableError extends ProbeError {
  readonly type = 'StoreUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, {}, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Anything not classified: a bug. It fails the run at once and names itself, so it never passes for an outage. */
export class InternalError extends ProbeError {
  readonly type = 'InternalError';
  constructor(activity: string, err: unknown) {
    const e = err as Error | undefined;
    const at = e?.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim();
    super(`bug in ${activity}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}${at ? ` (${at})` : ''}; please report it`, {}, { cause: err });
    this.name = 'InternalError';
  }
}

/** An arm's child workflow failed; its cause is the failure that ended it. */
export class ArmFailedError extends ProbeError {
  readonly type = 'ArmFailed';
  constructor(arm: string, message: string, cause: unknown) {
    super(`arm ${arm}: ${message}`, {}, { cause });
    this.name = 'ArmFailedError';
  }
}

/** An arm stopped because another arm of the run failed. */
export class ArmStoppedError extends ProbeError {
  readonly type = 'ArmStopped';
  constructor(arm: string, reason: string) {
    super(`arm ${arm} stopped: ${reason}`);
    this.name = 'ArmStoppedError';
  }
}

/** Every failure type and how it is handled; the README's error table lists the same. */
export const ERROR_TYPES = {
  TransientEndpointError: { behaviour: 'retry', class: 'TransientEndpointError' },
  RateLimitError: { behaviour: 'retry-after', class: 'RateLimitError' },
  BadRequestError: { behaviour: 'sample', class: 'BadRequestError' },
  SourceThoughtFailed: { behaviour: 'sample', class: 'SourceThoughtFailedError' },
  FatalEndpointError: { behaviour: 'fatal', class: 'FatalEndpointError' },
  MissingApiKeyError: { behaviour: 'fatal', class: 'MissingApiKeyError' },
  OutageBudgetExceeded: { behaviour: 'pause', class: 'OutageBudgetExceededError' },
  RunDirectoryConflict: { behaviour: 'fatal', class: 'RunDirectoryConflictError' },
  InvalidConfig: { behaviour: 'fatal', class: 'InvalidConfigError' },
  MissingStoredInput: { behaviour: 'fatal', class: 'MissingStoredInputError' },
  MissingStoreUrl: { behaviour: 'fatal', class: 'MissingStoreUrlError' },
  StoreAccessDenied: { behaviour: 'fatal', class: 'StoreAccessDeniedError' },
  StoreUnavailable: { behaviour: 'retry', class: 'StoreUnavailableError' },
  InvalidCodecKeys: { behaviour: 'fatal', class: 'InvalidCodecKeysError' },
  CodecKeyMissing: { behaviour: 'fatal', class: 'CodecKeyMissingError' },
  InternalError: { behaviour: 'fatal', class: 'InternalError' },
  ArmFailed: { behaviour: 'fatal', class: 'ArmFailedError' },
  ArmStopped: { behaviour: 'fatal', class: 'ArmStoppedError' },
} as const satisfies Record<string, { behaviour: Behaviour; class: string }>;

/** The failure type of one of our errors. */
export type ErrorTypeName = keyof typeof ERROR_TYPES;

/** How the run handles a failure type (undefined for a type that is not ours). */
export function behaviourOf(type: string | null | undefined): Behaviour | undefined {
  return ERROR_TYPES[type as ErrorTypeName]?.behaviour;
}

/** Whether a failure type may be retried. */
export function isRetryable(type: string | null | undefined): boolean {
  const t = ERROR_TYPES[type as ErrorTypeName];
  return t !== undefined && (t.behaviour === 'retry' || t.behaviour === 'retry-after');
}

/** Whether a failure type ends the run (a fix is needed before `resume`). */
export function isFatal(type: string | null | undefined): boolean {
  return ERROR_TYPES[type as ErrorTypeName]?.behaviour === 'fatal';
}

/**
 * Failure types that Temporal must never retry, for activity retry policies. Activities already mark these
 * failures non-retryable; the list is the second lock. It keeps the order and content that committed histories
 * were scheduled with.
 */
export const NON_RETRYABLE_TYPES: string[] = ['FatalEndpointError', 'BadRequestError', 'RunDirectoryConflict', 'InvalidConfig'];
