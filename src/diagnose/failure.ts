// Failure chains, from history (proto failures) or from the client (the SDK's TemporalFailure errors), as links
// that carry what our errors say about themselves: their type and their facts (src/errors), read from the first
// details payload of each ApplicationFailure.
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  ServerFailure,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { behaviourOf, type EndpointRef, type ErrorFacts } from '../errors';
import { decodePayload } from './decode';

type Failure = temporal.api.failure.v1.IFailure;

/** One link of a failure chain: what failed, its error type, its message, and the facts its details carry. */
export interface FailureLink {
  kind: string;
  type?: string;
  nonRetryable?: boolean;
  message: string;
  /** The child workflow or activity the link is about. */
  about?: string;
  /** What one of our errors says about itself (its first details payload); absent in histories older than src/errors. */
  facts?: ErrorFacts;
  /** The problems of an InvalidConfig failure (its details are the list). */
  problems?: string[];
}

// Links deeper than this are not followed (a cause chain of our own is at most 5 long).
const MAX_DEPTH = 12;

/** Wrappers that only say where a failure came from: the root cause is below them. */
const WRAPPER_TYPES = new Set(['ArmFailed', 'ArmStopped']);

function withDetails(link: FailureLink, details: unknown): void {
  if (Array.isArray(details) && details.every((p) => typeof p === 'string')) link.problems = details as string[];
  else if (details && typeof details === 'object') link.facts = details as ErrorFacts;
}

/** A failure from history and its causes, outermost first. */
export function failureChain(f: Failure | null | undefined): FailureLink[] {
  const out: FailureLink[] = [];
  for (let cur = f, depth = 0; cur && depth < MAX_DEPTH; cur = cur.cause, depth++) {
    const link: FailureLink = { kind: 'Failure', message: cur.message ?? '' };
    if (cur.applicationFailureInfo) {
      const a = cur.applicationFailureInfo;
      link.kind = 'ApplicationFailure';
      if (a.type) link.type = a.type;
      if (a.nonRetryable) link.nonRetryable = true;
      const first = a.details?.payloads?.[0];
      if (first) withDetails(link, decodePayload(first));
    } else if (cur.childWorkflowExecutionFailureInfo) {
      const c = cur.childWorkflowExecutionFailureInfo;
      link.kind = 'ChildWorkflowFailure';
      link.about = `child ${c.workflowExecution?.workflowId ?? '?'} (${c.workflowType?.name ?? '?'})`;
    } else if (cur.activityFailureInfo) {
      const a = cur.activityFailureInfo;
      link.kind = 'ActivityFailure';
      link.about = `activity ${a.activityId ?? '?'} (${a.activityType?.name ?? '?'})`;
    } else if (cur.timeoutFailureInfo) {
      link.kind = 'TimeoutFailure';
      link.type = temporal.api.enums.v1.TimeoutType[cur.timeoutFailureInfo.timeoutType ?? 0];
    } else if (cur.canceledFailureInfo) {
      link.kind = 'CancelledFailure';
    } else if (cur.terminatedFailureInfo) {
      link.kind = 'TerminatedFailure';
    } else if (cur.serverFailureInfo) {
      link.kind = 'ServerFailure';
    }
    out.push(link);
  }
  return out;
}

/** An error the client threw (a WorkflowFailedError and its TemporalFailure causes) as links, outermost first. */
export function errorChain(err: unknown): FailureLink[] {
  const out: FailureLink[] = [];
  for (let cur = err as (Error & { cause?: unknown }) | undefined, depth = 0; cur && depth < MAX_DEPTH; cur = cur.cause as typeof cur, depth++) {
    const link: FailureLink = { kind: cur.name || 'Error', message: cur.message ?? String(cur) };
    if (cur instanceof ApplicationFailure) {
      link.kind = 'ApplicationFailure';
      if (cur.type) link.type = cur.type;
      if (cur.nonRetryable) link.nonRetryable = true;
      if (cur.details?.length) withDetails(link, cur.details[0]);
    } else if (cur instanceof ChildWorkflowFailure) {
      link.kind = 'ChildWorkflowFailure';
      link.about = `child ${cur.execution.workflowId} (${cur.workflowType})`;
    } else if (cur instanceof ActivityFailure) {
      link.kind = 'ActivityFailure';
      link.about = `activity ${cur.activityId ?? '?'} (${cur.activityType})`;
    } else if (cur instanceof TimeoutFailure) {
      link.kind = 'TimeoutFailure';
      link.type = `TIMEOUT_TYPE_${cur.timeoutType}`;
    } else if (cur instanceof CancelledFailure) {
      link.kind = 'CancelledFailure';
    } else if (cur instanceof TerminatedFailure) {
      link.kind = 'TerminatedFailure';
    } else if (cur instanceof ServerFailure) {
      link.kind = 'ServerFailure';
    }
    out.push(link);
  }
  return out;
}

/**
 * The failure that says what happened: the deepest of our own errors that is not a wrapper (ArmFailed), else
 * the deepest ApplicationFailure, else the deepest link (a timeout, a termination).
 */
export function rootCause(chain: FailureLink[]): FailureLink | undefined {
  const app = chain.filter((l) => l.kind === 'ApplicationFailure');
  const ours = app.filter((l) => behaviourOf(l.type) !== undefined && !WRAPPER_TYPES.has(l.type!));
  return ours.at(-1) ?? app.at(-1) ?? chain.at(-1);
}

/** Whether a failure type only wraps the failure that caused it. */
export function isWrapper(type: string | undefined): boolean {
  return type !== undefined && WRAPPER_TYPES.has(type);
}

/** An endpoint a failure is about, with the status it answered. */
export interface FailingEndpoint extends EndpointRef {
  status?: number;
}

/**
 * The endpoint a request failure names in its message: `judge http://host/v1 model "m": 404 ...`. Only for
 * failures without details: histories recorded before the one error hierarchy (src/errors), such as the older
 * committed fixtures, carry the endpoint in the message alone. Newer failures are read from their facts.
 */
export function endpointInMessage(message: string): FailingEndpoint | undefined {
  const m = /(judge|arm \S+) (\S+) model "([^"]*)"(?:: (\d{3})\b)?/.exec(message);
  return m ? { role: m[1]!, baseURL: m[2]!, model: m[3]!, ...(m[4] ? { status: Number(m[4]) } : {}) } : undefined;
}

/** The endpoint a link is about: from its facts, or, for an old link without details, from its message. */
export function endpointOf(link: FailureLink): FailingEndpoint | undefined {
  if (link.facts === undefined && link.problems === undefined) return endpointInMessage(link.message);
  const ep = link.facts?.endpoint;
  return ep ? { role: ep.role, baseURL: ep.baseURL, model: ep.model, ...(link.facts?.status !== undefined ? { status: link.facts.status } : {}) } : undefined;
}

/** A link as one line: `ApplicationFailure FatalEndpointError (non-retryable) [activity ...]: message`. */
export function renderLink(l: FailureLink): string {
  return `${l.kind}${l.type ? ` ${l.type}` : ''}${l.nonRetryable ? ' (non-retryable)' : ''}${l.about ? ` [${l.about}]` : ''}: ${l.message}`;
}
