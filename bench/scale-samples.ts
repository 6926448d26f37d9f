// A larger samples.jsonl made from a run's own, streamed: each group of consecutive records of one arm, condition
// and prefix is written `factor` times, copy k under prefix id `<id>~r<k>` (copy 0 keeps the original id, and a
// swapped thought's donor is renamed the same way, so it stays in its copy), prefixIndex shifted by k x prefixes.
// The texts stay the run's own, so the file reads like a real run of factor x the prefixes. Used by the scale
// harness for the 1,000x analyze (2,048,000 records from the 100x run's 204,800, about 2 GB). Not part of the test
// suite.
//
//   npx tsx bench/scale-samples.ts SRC DST --factor 10 --prefixes 3200
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { numArg } from './scale-util';

interface Rec {
  arm: string;
  condition: string;
  prefixId: string;
  prefixIndex?: number;
  thoughtSource?: { prefixId: string } | null;
}

/** Writes `dst` from `src` with every prefix `factor` times; returns the records and bytes written. */
export async function multiplySamples(src: string, dst: string, factor: number, prefixes: number): Promise<{ records: number; bytes: number; seconds: number }> {
  const started = Date.now();
  const out = createWriteStream(dst);
  let chunk: string[] = [];
  let chunkLength = 0;
  let records = 0;
  let bytes = 0;
  const write = async (line: string) => {
    chunk.push(line);
    chunkLength += line.length + 1;
    records++;
    if (chunkLength > 1 << 20) await flush();
  };
  const flush = async () => {
    if (!chunk.length) return;
    const s = `${chunk.join('\n')}\n`;
    chunk = [];
    chunkLength = 0;
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  let group: { text: string; rec: Rec }[] = [];
  let key = '';
  const emit = async () => {
    for (let k = 0; k < factor; k++) {
      for (const g of group) {
        if (k === 0) {
          await write(g.text);
          continue;
        }
        const r = { ...g.rec, prefixId: `${g.rec.prefixId}~r${k}` };
        if (typeof r.prefixIndex === 'number') r.prefixIndex += k * prefixes;
        if (r.thoughtSource && typeof r.thoughtSource.prefixId === 'string') r.thoughtSource = { ...r.thoughtSource, prefixId: `${r.thoughtSource.prefixId}~r${k}` };
        await write(JSON.stringify(r));
      }
    }
    group = [];
  };
  for await (const text of createInterface({ input: createReadStream(src), crlfDelay: Infinity })) {
    if (!text.trim()) continue;
    const rec = JSON.parse(text) as Rec;
    const k = `${rec.arm}\u0000${rec.condition}\u0000${rec.prefixId}`;
    if (k !== key && group.length) await emit();
    key = k;
    group.push({ text, rec });
  }
  await emit();
  await flush();
  out.end();
  await once(out, 'finish');
  return { records, bytes, seconds: (Date.now() - started) / 1000 };
}

if (require.main === module) {
  const [src, dst] = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  if (!src || !dst) {
    process.stderr.write('usage: npx tsx bench/scale-samples.ts SRC DST --factor N --prefixes P\n');
    process.exit(2);
  }
  multiplySamples(src, dst, numArg('factor', 10), numArg('prefixes', 3200)).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
