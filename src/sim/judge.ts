import { rngFrom } from './rng';
import { contentSet, coverage } from './text';

const INVALID_ANSWERS = [
  'The prediction seems reasonable.',
  'The prediction partially matches the reference in tone.',
  'Hard to say; the continuation is plausible.',
];

function lastTagged(text: string, tag: string): string | undefined {
  const open = text.lastIndexOf(`<${tag}>`);
  if (open < 0) return undefined;
  const close = text.indexOf(`</${tag}>`, open);
  return close < 0 ? undefined : text.slice(open + tag.length + 2, close);
}

/** Judge score: 1 if the prediction covers >= 50% of the reference's content words (length >= 4), else 0. */
export function judgeScore(reference: string, prediction: string): 0 | 1 {
  return coverage(contentSet(prediction), contentSet(reference)) >= 0.5 ? 1 : 0;
}

/**
 * Simulated judge answer for a prompt with <reference> and <prediction> tags; may be invalid with `invalidRate`.
 * A judge other than the main one (`judgeName`) gives the opposite score with probability `disagreeRate`, drawn
 * from its own generator so that the main judge's answers stay what they were.
 */
export function runJudge(content: string, seed: number | undefined, invalidRate: number, forceInvalid = false, disagreeRate = 0, judgeName = ''): string {
  const rand = rngFrom('judge', seed, content);
  if (forceInvalid || rand() < invalidRate) return INVALID_ANSWERS[Math.floor(rand() * INVALID_ANSWERS.length)];
  const ref = lastTagged(content, 'reference');
  const pred = lastTagged(content, 'prediction');
  if (ref === undefined || pred === undefined) return '{"score": 0}';
  let score = judgeScore(ref, pred);
  if (disagreeRate > 0 && rngFrom('judge-disagree', judgeName, seed, content)() < disagreeRate) score = score === 1 ? 0 : 1;
  return `{"score": ${score}}`;
}
