// `npm run bench:codec`: what the payload codec costs per payload, for the payload shapes a run sends: a batch
// activity's input (~2 KB), a heartbeat checkpoint (~8 KB), a run's config with inline rows (~64 KB). Encrypt and
// decrypt in one process, no server: the CPU the codec adds to a worker or client per payload. Not part of the tests.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, parseCodecKeys } from '../src/codec';
import { numArg } from './lib';

const codec = new EncryptionCodec(parseCodecKeys(`k1=${randomBytes(32).toString('base64')}`));
const text = (bytes: number) => 'the thought before the suffix '.repeat(Math.ceil(bytes / 30)).slice(0, bytes);
const shapes: [string, number][] = [
  ['activity input (~2 KB)', 2_000],
  ['heartbeat checkpoint (~8 KB)', 8_000],
  ['run config with inline rows (~64 KB)', 64_000],
];
const rounds = numArg('rounds', 5000);
const rows: string[] = ['| payload | bytes | encrypt µs | decrypt µs | MB/s (encrypt + decrypt) |', '| --- | ---: | ---: | ---: | ---: |'];
for (const [name, bytes] of shapes) {
  const plain = defaultPayloadConverter.toPayload({ text: text(bytes) });
  const n = Math.max(200, Math.round((rounds * 2_000) / bytes));
  let enc = codec.encodeOne(plain);
  for (let i = 0; i < 1000; i++) codec.decodeOne(codec.encodeOne(plain));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) enc = codec.encodeOne(plain);
  const t1 = performance.now();
  for (let i = 0; i < n; i++) codec.decodeOne(enc);
  const t2 = performance.now();
  const e = ((t1 - t0) * 1000) / n;
  const d = ((t2 - t1) * 1000) / n;
  rows.push(`| ${name} | ${plain.data!.length} | ${e.toFixed(1)} | ${d.toFixed(1)} | ${(plain.data!.length / (e + d)).toFixed(0)} |`);
}
process.stdout.write(`${rows.join('\n')}\n`);
