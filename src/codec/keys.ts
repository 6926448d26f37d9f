import { InvalidCodecKeysError } from '../errors';

/** The variable that holds the payload codec's keys; unset means payloads are not encrypted. */
export const CODEC_KEYS_ENV = 'THOUGHT_PROBE_CODEC_KEYS';

/** The codec's keys: the id that encrypts new payloads, and every key that may decrypt (rotation keeps old ones). */
export interface CodecKeys {
  encryptWith: string;
  keys: ReadonlyMap<string, Buffer>;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses `id=<base64 32-byte key>[,id=<key>...]`: the first entry encrypts, all decrypt. Problems name the entry by
 * its position only: a key written where an id belongs must not be echoed.
 */
export function parseCodecKeys(text: string, envVar = CODEC_KEYS_ENV): CodecKeys {
  const entries = text.split(',').map((e) => e.trim());
  if (!entries.some(Boolean)) throw new InvalidCodecKeysError(envVar, 'is set but empty');
  const keys = new Map<string, Buffer>();
  entries.forEach((entry, i) => {
    const n = i + 1;
    const eq = entry.indexOf('=');
    const id = eq > 0 ? entry.slice(0, eq).trim() : '';
    const value = eq > 0 ? entry.slice(eq + 1).trim() : '';
    // A bare key ends in "=" padding: without a value after the first "=", the entry has no id (and is not echoed).
    if (!id || !value.replace(/=+$/, '')) throw new InvalidCodecKeysError(envVar, `entry ${n} is not id=<key>`);
    if (!ID.test(id)) throw new InvalidCodecKeysError(envVar, `entry ${n}: the id must be 1-64 letters, digits, ".", "_" or "-"`);
    if (keys.has(id)) throw new InvalidCodecKeysError(envVar, `entry ${n} repeats the id of an earlier entry`);
    const key = BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
    if (!key || key.length !== 32) throw new InvalidCodecKeysError(envVar, `entry ${n}: the key is not the base64 of exactly 32 bytes (AES-256)`);
    keys.set(id, key);
  });
  return { encryptWith: entries[0]!.slice(0, entries[0]!.indexOf('=')).trim(), keys };
}
