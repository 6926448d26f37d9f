import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CodecKeyMissingError } from '../errors';
import { CODEC_KEYS_ENV, type CodecKeys } from './keys';

/** The encoding of a payload our codec encrypted. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key that names the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
// The layout of Temporal's encryption samples in every language: 12-byte IV, ciphertext, 16-byte tag.
const IV_BYTES = 12;
const TAG_BYTES = 16;

const text = (b: Uint8Array | null | undefined): string | undefined => (b ? Buffer.from(b).toString('utf8') : undefined);

/** The field of the value a missing-key mark decodes to. */
export const MISSING_KEY_MARK = '$thoughtProbeCodecKeyMissing';

/** What a missing-key mark carries: the facts of its CodecKeyMissingError. */
export interface MissingKeyFacts {
  keyId: string;
  held: string[];
  where: string;
}

/** A plain payload that stands for one this process cannot decrypt, saying which key it needs. */
function missingKeyMark(facts: MissingKeyFacts): Payload {
  return { metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify({ [MISSING_KEY_MARK]: facts })) };
}

/** Whether a payload was encrypted by this codec (a plain payload passes decoding unchanged). */
export function isEncrypted(p: Payload | null | undefined): boolean {
  return text(p?.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

/** The key id an encrypted payload names, or undefined for a plain one. */
export function keyIdOf(p: Payload): string | undefined {
  return isEncrypted(p) ? (text(p.metadata?.[KEY_ID_METADATA]) ?? '') : undefined;
}

/**
 * AES-256-GCM over each whole payload (its metadata and data, so the encoding is hidden too), the key id in the
 * metadata; the first key encrypts and every key decrypts, so keys rotate without stopping runs.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly keys: CodecKeys,
    /** Where this process is, for the message of a missing key. */
    private readonly where = `in this process (${process.pid}@${hostname()})`,
    /**
     * Whether a payload under a key id this codec lacks decodes to a missing-key mark instead of throwing: for activity
     * workers, whose argument decoding the SDK retries whatever is thrown (see ./activities).
     */
    private readonly markMissing = false,
  ) {}

  /** This codec for activity workers: a payload under a key it lacks becomes a mark that fails the activity for good. */
  marking(): EncryptionCodec {
    return new EncryptionCodec(this.keys, this.where, true);
  }

  /** The key ids this codec can decrypt, the encrypting one first. */
  get keyIds(): string[] {
    return [...this.keys.keys.keys()];
  }

  /** Encrypts one payload with the first key. */
  encodeOne(p: Payload): Payload {
    const id = this.keys.encryptWith;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.keys.get(id)!, iv, { authTagLength: TAG_BYTES });
    // The key id is authenticated data: a payload cannot be moved under another id's name.
    cipher.setAAD(Buffer.from(id));
    const plain = temporal.api.common.v1.Payload.encode(p).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(id), [CIPHER_METADATA]: Buffer.from(CIPHER) }, data };
  }

  /** Decrypts one payload with the key its metadata names; a plain payload comes back as it is. */
  decodeOne(p: Payload): Payload {
    if (!isEncrypted(p)) return p;
    const id = keyIdOf(p)!;
    const key = this.keys.keys.get(id);
    if (!key) {
      if (this.markMissing) return missingKeyMark({ keyId: id, held: this.keyIds, where: this.where });
      throw new CodecKeyMissingError(CODEC_KEYS_ENV, id, this.keyIds, this.where);
    }
    const data = Buffer.from(p.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`encrypted payload (key id "${id}") is truncated: ${data.length} bytes`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`encrypted payload (key id "${id}") does not decrypt with the key ${CODEC_KEYS_ENV} gives that id here: the key was changed under the same id, or the payload was altered`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }

  /** Encrypts payloads (Temporal's PayloadCodec). */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encodeOne(p));
  }

  /** Decrypts payloads (Temporal's PayloadCodec). */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decodeOne(p));
  }
}

/**
 * The codec of a process without keys: plain payloads pass both ways unchanged (so with no keys set nothing changes),
 * and an encrypted one is a clear CodecKeyMissingError naming its key id instead of an unknown encoding.
 */
export class NoKeysCodec implements PayloadCodec {
  constructor(private readonly where = `in this process (${process.pid}@${hostname()})`) {}

  /** Leaves payloads as they are. */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  /** Leaves plain payloads as they are; refuses encrypted ones, naming their key id. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    for (const p of payloads) if (isEncrypted(p)) throw new CodecKeyMissingError(CODEC_KEYS_ENV, keyIdOf(p)!, [], this.where);
    return payloads;
  }
}

/**
 * Decrypts, in place, every encrypted payload anywhere in a proto object (a history, a describe response), for
 * readers that walk raw protos themselves; returns the object.
 */
export function decryptPayloadsIn<T>(value: T, codec: EncryptionCodec): T {
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (!v || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (isEncrypted(item as Payload)) v[i] = codec.decodeOne(item as Payload);
        else visit(item);
      });
      return;
    }
    for (const [k, item] of Object.entries(v)) {
      if (isEncrypted(item as Payload)) (v as Record<string, unknown>)[k] = codec.decodeOne(item as Payload);
      else visit(item);
    }
  };
  visit(value);
  return value;
}
