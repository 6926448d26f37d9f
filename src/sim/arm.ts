import { randInt, rngFrom, fnv1a } from './rng';
import { contentSet, norm, words } from './text';
import type { IndexedRow, RowIndex } from './rows';
import type { ThoughtClass } from './types';

/** Default success probability per thought class (the research note's pattern). */
export const DEFAULT_SUCCESS: Record<ThoughtClass, number> = { own: 0.12, blank: 0.14, generic: 0.2, swapped: 0.02 };

const LEAD_INS = [
  'The passage should go on to',
  'Next it likely explains',
  'I expect the text to continue with',
  'The author will probably describe',
  'It should next mention',
];
const FILLER = (
  'In many ways the situation remained much as it had been before, and people went about their ordinary ' +
  'business without paying much attention. Some observers later argued that nothing important had changed, ' +
  'while others suggested that the whole matter deserved a closer look. Over the following years several ' +
  'different accounts appeared, each offering its own view of what had happened and why it mattered to ' +
  'those involved. Most readers simply moved on to other topics of general interest.'
).split(' ');

// Frequent words ignored when building and classifying thoughts, so neutral scaffolds read as generic.
const STOP = new Set(
  ('that with this from have were which their there they been will would into than then when also more some only ' +
    'over such about after before these those other same just like very each most them your comes next text passage ' +
    'should likely explains expect continue author probably describe mention').split(' '),
);

/** Content words of a text minus frequent words. */
export function keyWords(text: string): Set<string> {
  return new Set([...contentSet(text)].filter((w) => !STOP.has(w)));
}

/** Result text of a simulated generation plus whether the model "stopped" on its own. */
export interface Generation {
  text: string;
  finish: 'stop' | 'length';
}

/** Per-model offset in [-0.03, +0.03] applied to all success probabilities. */
export function modelOffset(model: string): number {
  return (fnv1a(`offset:${model}`) / 4294967296) * 0.06 - 0.03;
}

/** Builds a 28-42 word thought from the row's true suffix (generic when the row is unknown). */
export function makeThought(row: IndexedRow | undefined, rand: () => number): Generation {
  const n = randInt(rand, 28, 42);
  const lead = words(LEAD_INS[Math.floor(rand() * LEAD_INS.length)]);
  const pool = row ? [...keyWords(row.row.suffix)] : [];
  const out = [...lead];
  if (pool.length === 0) {
    out.push('how', 'the', 'text', 'continues', 'in', 'a', 'natural', 'way.');
  } else {
    let i = Math.floor(rand() * pool.length);
    while (out.length < n) {
      out.push(pool[i % pool.length]);
      if (rand() < 0.15 && out.length < n - 1) out.push(rand() < 0.5 ? 'and' : 'then');
      i++;
    }
  }
  return { text: out.slice(0, n).join(' '), finish: rand() < 0.95 ? 'stop' : 'length' };
}

/** Classifies a thought relative to the prompt's row: blank, own, swapped (other row wins) or generic (low overlap). */
export function classifyThought(thought: string, row: IndexedRow, index: RowIndex): ThoughtClass {
  if (thought.trim() === '') return 'blank';
  const t = keyWords(thought);
  let best: IndexedRow | undefined;
  let bestScore = 0;
  const ownScore = scoreOf(t, row.suffixWords);
  for (const r of index.rows) {
    const s = scoreOf(t, r.suffixWords);
    if (s > bestScore) [best, bestScore] = [r, s];
  }
  if (bestScore < 0.5 || bestScore * t.size < 3) return 'generic';
  return ownScore >= bestScore || best === row ? 'own' : 'swapped';
}

function scoreOf(thought: Set<string>, suffix: Set<string>): number {
  let hit = 0;
  for (const w of thought) if (suffix.has(w)) hit++;
  return thought.size === 0 ? 0 : hit / thought.size;
}

/** Close paraphrase of the true suffix: ~10% of words dropped or swapped with a neighbour. */
export function paraphrase(suffix: string, rand: () => number): string {
  const ws = words(suffix);
  const out: string[] = [];
  for (let i = 0; i < ws.length; i++) {
    const u = rand();
    if (u < 0.05 && ws.length > 10) continue;
    if (u < 0.1 && i + 1 < ws.length) {
      out.push(ws[i + 1], ws[i]);
      i++;
    } else out.push(ws[i]);
  }
  return out.join(' ');
}

/** Plausible but wrong 80-100 word continuation that shares < 30% of the true suffix's content words. */
export function wrongContinuation(row: IndexedRow | undefined, index: RowIndex, rand: () => number): string {
  const n = randInt(rand, 80, 100);
  const others = index.rows.filter((r) => r !== row);
  const other = others.length > 0 ? others[Math.floor(rand() * others.length)] : undefined;
  const prefixWords = row ? words(row.row.prefix).filter((w) => norm(w).length >= 4) : [];
  const source = [...(other ? words(other.row.suffix) : []), ...FILLER, ...FILLER];
  const avoid = row?.suffixWords ?? new Set<string>();
  let budget = Math.floor(avoid.size * 0.3);
  const out: string[] = [];
  for (let i = 0; out.length < n && i < source.length * 3; i++) {
    const w = i % 9 === 8 && prefixWords.length > 0 ? prefixWords[Math.floor(rand() * prefixWords.length)] : source[i % source.length];
    const k = norm(w);
    if (avoid.has(k)) {
      if (budget <= 0) continue;
      budget--;
    }
    out.push(w);
  }
  return out.join(' ');
}

/** Simulates an arm model on a completions-style prompt (thought request, suffix request, or unknown). */
export function runArm(model: string, prompt: string, seed: number | undefined, index: RowIndex, rates: Record<ThoughtClass, number>): Generation {
  const rand = rngFrom('arm', model, seed, prompt);
  const row = index.match(prompt);
  if (prompt.trimEnd().endsWith('<think>')) return makeThought(row, rand);
  if (!row) return { text: wrongContinuation(undefined, index, rand), finish: 'stop' };
  const close = prompt.lastIndexOf('</think>');
  const open = close >= 0 ? prompt.lastIndexOf('<think>', close) : -1;
  const thought = open >= 0 ? prompt.slice(open + 7, close) : '';
  const cls = classifyThought(thought, row, index);
  const p = Math.min(1, Math.max(0, rates[cls] + modelOffset(model)));
  const text = rand() < p ? paraphrase(row.row.suffix, rand) : wrongContinuation(row, index, rand);
  return { text, finish: 'stop' };
}
