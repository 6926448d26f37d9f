import { hostname } from 'node:os';
import type { DataConverter, Payload } from '@temporalio/common';
import { CodecKeyMissingError } from '../errors';
import { EncryptionCodec, NoKeysCodec, isEncrypted, keyIdOf } from './codec';
import { CODEC_KEYS_ENV, parseCodecKeys } from './keys';

/** The payload codec this process's environment asks for, or undefined when THOUGHT_PROBE_CODEC_KEYS is unset. */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const text = env[CODEC_KEYS_ENV];
  if (text === undefined) return undefined;
  return new EncryptionCodec(parseCodecKeys(text));
}

/**
 * The data converter of every client, worker and replayer of this process: the default one with the encryption codec
 * when keys are set; without keys, a codec that passes plain payloads unchanged (byte for byte: nothing changes) and
 * names the key id of an encrypted one.
 */
export function probeDataConverter(env: NodeJS.ProcessEnv = process.env): DataConverter {
  return { payloadCodecs: [codecFromEnv(env) ?? new NoKeysCodec()] };
}

let cached: { text: string | undefined; codec: EncryptionCodec | undefined } | undefined;

/** The environment's codec, parsed once per value of the variable (for readers of raw protos: status, debug). */
export function processCodec(): EncryptionCodec | undefined {
  const text = process.env[CODEC_KEYS_ENV];
  if (!cached || cached.text !== text) cached = { text, codec: codecFromEnv() };
  return cached.codec;
}

/**
 * A payload as the default converter reads it: decrypted with the environment's codec when it is encrypted; a
 * CodecKeyMissingError when this process holds no key for it.
 */
export function plainPayload<P extends Payload>(p: P): P {
  if (!isEncrypted(p)) return p;
  const codec = processCodec();
  if (!codec) throw new CodecKeyMissingError(CODEC_KEYS_ENV, keyIdOf(p) ?? '', [], `in this process (${process.pid}@${hostname()})`);
  return codec.decodeOne(p) as P;
}
