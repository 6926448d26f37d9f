import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { CODEC_KEYS_ENV, EncryptionCodec, decryptPayloadsIn, isEncrypted, keyIdOf, parseCodecKeys, startCodecServer } from '../../src/codec';
import { CodecKeyMissingError, InvalidCodecKeysError } from '../../src/errors';

const key = () => randomBytes(32).toString('base64');
const k1 = key();
const k2 = key();

describe('THOUGHT_PROBE_CODEC_KEYS', () => {
  test('the first id encrypts, every id decrypts', () => {
    const keys = parseCodecKeys(`k2=${k2}, k1=${k1}`);
    expect(keys.encryptWith).toBe('k2');
    expect([...keys.keys.keys()]).toEqual(['k2', 'k1']);
    expect(keys.keys.get('k1')!.toString('base64')).toBe(k1);
  });

  test.each([
    ['', 'empty'],
    [`${k1}`, 'entry 1 is not id=<key>'],
    [`=${k1}`, 'entry 1 is not id=<key>'],
    [`k1=${k1},k1=${k2}`, 'entry 2 repeats the id'],
    // A key written before its id: the first 43 characters look like an id, and must not be echoed.
    [`${k1}=k1`, 'entry 1'],
    [`k1=${randomBytes(16).toString('base64')}`, 'exactly 32 bytes'],
    ['k1=not base64!', 'exactly 32 bytes'],
    [`bad id=${k1}`, 'the id must be'],
  ])('%j is a clear error naming the variable and the fix, never the key', (text, problem) => {
    let err: unknown;
    try {
      parseCodecKeys(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidCodecKeysError);
    const message = (err as Error).message;
    expect(message).toContain(CODEC_KEYS_ENV);
    expect(message).toContain(problem);
    expect(message).toContain('openssl rand -base64 32');
    for (const k of [k1, k2]) expect(message).not.toContain(k.slice(0, 12));
  });
});

describe('EncryptionCodec', () => {
  const plain = defaultPayloadConverter.toPayload({ prefix: 'The river ran high that spring', n: 3 });

  test('encrypts the whole payload under the first key id and decrypts it back', async () => {
    const codec = new EncryptionCodec(parseCodecKeys(`k1=${k1}`));
    const [enc] = await codec.encode([plain]);
    expect(isEncrypted(enc)).toBe(true);
    expect(keyIdOf(enc!)).toBe('k1');
    // Nothing of the original, not even its encoding, is readable.
    expect(Buffer.from(enc!.data!).toString('latin1')).not.toContain('river');
    expect(Buffer.from(enc!.data!).toString('latin1')).not.toContain('json/plain');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual({ prefix: 'The river ran high that spring', n: 3 });
    // Two encryptions of one payload differ (a fresh IV each time).
    expect(Buffer.from(codec.encodeOne(plain).data!).equals(Buffer.from(enc!.data!))).toBe(false);
  });

  test('after a rotation, payloads of the old key still decrypt and new ones use the new key', () => {
    const before = new EncryptionCodec(parseCodecKeys(`k1=${k1}`));
    const after = new EncryptionCodec(parseCodecKeys(`k2=${k2},k1=${k1}`));
    const old = before.encodeOne(plain);
    expect(defaultPayloadConverter.fromPayload(after.decodeOne(old))).toEqual({ prefix: 'The river ran high that spring', n: 3 });
    expect(keyIdOf(after.encodeOne(plain))).toBe('k2');
    // The old codec cannot read the new key's payloads: a clear, non-retryable error naming the id.
    let err: unknown;
    try {
      before.decodeOne(after.encodeOne(plain));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CodecKeyMissingError);
    expect((err as CodecKeyMissingError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/key id "k2", which THOUGHT_PROBE_CODEC_KEYS does not hold .* \(it holds "k1"\): add k2=<its key>/);
    for (const k of [k1, k2]) expect((err as Error).message).not.toContain(k);
  });

  test('a payload altered or under a key changed for the same id is refused', () => {
    const codec = new EncryptionCodec(parseCodecKeys(`k1=${k1}`));
    const enc = codec.encodeOne(plain);
    const data = Buffer.from(enc.data!);
    data[20] = data[20]! ^ 1;
    expect(() => codec.decodeOne({ ...enc, data })).toThrow(/does not decrypt/);
    expect(() => new EncryptionCodec(parseCodecKeys(`k1=${k2}`)).decodeOne(enc)).toThrow(/does not decrypt/);
  });

  test('plain payloads pass decoding unchanged; decryptPayloadsIn decrypts them anywhere in a proto', () => {
    const codec = new EncryptionCodec(parseCodecKeys(`k1=${k1}`));
    expect(codec.decodeOne(plain)).toBe(plain);
    const doc = { events: [{ a: { input: { payloads: [codec.encodeOne(plain)] } } }], other: { p: codec.encodeOne(plain) } };
    decryptPayloadsIn(doc, codec);
    expect(defaultPayloadConverter.fromPayload(doc.events[0]!.a.input.payloads[0]!)).toEqual({ prefix: 'The river ran high that spring', n: 3 });
    expect(isEncrypted(doc.other.p)).toBe(false);
  });
});

describe('codec server', () => {
  const codec = new EncryptionCodec(parseCodecKeys(`k1=${k1}`));
  const json = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });

  test('POST /encode and /decode speak proto JSON, with CORS for the web UI', async () => {
    const server = await startCodecServer({ codec, port: 0, corsOrigins: ['http://localhost:8233'] });
    try {
      const plain = defaultPayloadConverter.toPayload('a thought');
      const enc = await fetch(`${server.url}/encode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payloads: [json(plain)] }) });
      expect(enc.status).toBe(200);
      const encoded = ((await enc.json()) as { payloads: { metadata: Record<string, string> }[] }).payloads;
      expect(Buffer.from(encoded[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k1');
      // The UI's path form /{namespace}/decode works too.
      const dec = await fetch(`${server.url}/default/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'http://localhost:8233', 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: encoded }),
      });
      expect(dec.status).toBe(200);
      expect(dec.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      const decoded = ((await dec.json()) as { payloads: { data: string }[] }).payloads;
      expect(JSON.parse(Buffer.from(decoded[0]!.data, 'base64').toString())).toBe('a thought');
      const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
      // Another origin gets no CORS grant.
      const other = await fetch(`${server.url}/decode`, { method: 'POST', headers: { origin: 'http://evil.example' }, body: JSON.stringify({ payloads: [] }) });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      // A payload under a key the server lacks is a 403 naming the id; a bad body is a 400.
      const foreign = new EncryptionCodec(parseCodecKeys(`k9=${k2}`)).encodeOne(plain);
      const missing = await fetch(`${server.url}/decode`, { method: 'POST', body: JSON.stringify({ payloads: [json(foreign)] }) });
      expect(missing.status).toBe(403);
      expect(await missing.text()).toContain('"k9"');
      expect((await fetch(`${server.url}/decode`, { method: 'POST', body: '{' })).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
