// Decoding what Temporal returns (payloads, timestamps) for diagnosis; never throws on odd input.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { plainPayload } from '../codec';

type Payload = temporal.api.common.v1.IPayload;
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

/** A proto timestamp as an ISO string, or undefined when it is not set. */
export function iso(t: Timestamp): string | undefined {
  if (!t?.seconds) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * A payload decoded as our workers and clients do: decrypted with the environment's codec keys when it is encrypted,
 * then the default payload converter.
 */
export function decodePayload(p: Payload | null | undefined): unknown {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(plainPayload(p as never));
  } catch {
    return '(undecodable payload)';
  }
}
