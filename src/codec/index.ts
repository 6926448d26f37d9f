// The payload codec: AES-256-GCM over every payload when THOUGHT_PROBE_CODEC_KEYS is set, and its codec server.
export { EncryptionCodec, NoKeysCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, decryptPayloadsIn, isEncrypted, keyIdOf } from './codec';
export { missingKeyInterceptor } from './activities';
export { codecFromEnv, plainPayload, probeDataConverter, processCodec } from './env';
export { CODEC_KEYS_ENV, parseCodecKeys, type CodecKeys } from './keys';
export { startCodecServer, type CodecServer, type CodecServerOptions } from './server';
