import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { CodecKeyMissingError } from '../errors';
import { MISSING_KEY_MARK, type MissingKeyFacts } from './codec';
import { CODEC_KEYS_ENV } from './keys';

function markIn(values: unknown[]): MissingKeyFacts | undefined {
  for (const v of values) {
    const m = (v as Record<string, unknown> | null | undefined)?.[MISSING_KEY_MARK] as MissingKeyFacts | undefined;
    if (m && typeof m.keyId === 'string') return m;
  }
  return undefined;
}

/**
 * Fails an activity whose arguments or heartbeat details this worker could not decrypt, for good: the SDK turns an
 * error thrown while decoding arguments into a retryable failure, and no retry brings a missing key. The marking
 * codec (EncryptionCodec.marking) decodes such payloads to a mark that this interceptor finds.
 */
export const missingKeyInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const m = markIn([...input.args, ctx.info.heartbeatDetails]);
      if (m) throw new CodecKeyMissingError(CODEC_KEYS_ENV, m.keyId, m.held, m.where).toFailure();
      return next(input);
    },
  },
});
