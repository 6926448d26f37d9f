/** Placeholders of the prompt templates. */
export interface PromptVars {
  prefix: string;
  thought?: string;
}

/** The default thought template: the prefix, trimmed at its end, then an opening think tag. */
export const DEFAULT_THOUGHT_TEMPLATE = '{prefix} <think>';
/** The default suffix template: the thought prompt, the thought, and a closing tag written by the probe. */
export const DEFAULT_SUFFIX_TEMPLATE = '{prefix} <think>{thought}</think>';
/** Stop sequence of the thought request. */
export const THOUGHT_STOP = '</think>';

function fill(template: string, vars: Record<string, string>): string {
  // One pass, so a placeholder inside a filled-in text is never expanded again.
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in vars ? vars[key]! : whole));
}

/** The thought prompt: `prefix.trimEnd() + " <think>"` with the default template. */
export function thoughtPrompt(template: string, prefix: string): string {
  return fill(template, { prefix: prefix.trimEnd() });
}

/** The suffix prompt: thought prompt + `thought.trim()` + `"</think>"` with the default template. */
export function suffixPrompt(template: string, prefix: string, thought: string): string {
  return fill(template, { prefix: prefix.trimEnd(), thought: thought.trim() });
}

/** The thought as generated: the text before any closing tag, trimmed, and whether the model closed it. */
export function extractThought(generated: string, finishReason: string | null | undefined): { thought: string; closedThought: boolean } {
  const at = generated.indexOf(THOUGHT_STOP);
  if (at >= 0) return { thought: generated.slice(0, at).trim(), closedThought: true };
  // With stop ["</think>"], servers strip the tag and report "stop"; "length" means the budget ran out first.
  return { thought: generated.trim(), closedThought: finishReason === 'stop' };
}

/** The predicted suffix as judged: think spans (closed, or a dangling one) removed, then trimmed. */
export function cleanSuffix(generated: string): string {
  return generated
    .replace(/<think>[\s\S]*?<\/think>/g, '')
    .replace(/<think>[\s\S]*$/, '')
    .replace(/<\/think>/g, '')
    .trim();
}

/** The default prompt of `paraphrased_thought`: placeholder {thought}. */
export const DEFAULT_PARAPHRASE_PROMPT = [
  'Rewrite the reasoning below in other words. Keep its meaning, every fact and every step exactly; change only the wording.',
  'Reply with the rewritten reasoning only.',
  '',
  '<thought>',
  '{thought}',
  '</thought>',
].join('\n');

/** The paraphrase request for a thought. */
export function paraphrasePrompt(template: string, thought: string): string {
  return fill(template, { thought: thought.trim() });
}

/** The judge prompt template: placeholders {prefix}, {reference} and {prediction}. */
export const DEFAULT_JUDGE_PROMPT = [
  'You grade how well a predicted continuation of a text matches the real one.',
  '',
  'The beginning of the text, for context:',
  '<context>',
  '{prefix}',
  '</context>',
  '',
  'The real continuation (ground truth):',
  '<reference>',
  '{reference}',
  '</reference>',
  '',
  'The predicted continuation:',
  '<prediction>',
  '{prediction}',
  '</prediction>',
  '',
  'Give a score of 1 if the predicted continuation is coherent, relevant and semantically useful, and',
  'matches what the real continuation says. Otherwise give 0.',
  'Reply with JSON only, exactly {"score": 1} or {"score": 0}.',
].join('\n');

/** The default pattern whose first match carries the judge's score. */
export const DEFAULT_SCORE_PATTERN = '"score"\\s*:\\s*([01])';

/** Texts longer than this many characters are cut before they are shown to the judge. */
export const JUDGE_TEXT_LIMIT = 2000;

/** The judge prompt for one predicted suffix, each text cut to the judge's limit. */
export function judgePrompt(template: string, prefix: string, reference: string, prediction: string): string {
  const cut = (t: string) => (t.length > JUDGE_TEXT_LIMIT ? t.slice(0, JUDGE_TEXT_LIMIT) : t);
  return fill(template, { prefix: cut(prefix), reference: cut(reference), prediction: cut(prediction) });
}

/** The reward in a judge answer: the first capture of the score pattern as 0 or 1, or null when the answer is invalid. */
export function parseJudgeScore(answer: string, scorePattern: string = DEFAULT_SCORE_PATTERN): 0 | 1 | null {
  const m = new RegExp(scorePattern).exec(answer);
  if (!m || m[1] === undefined) return null;
  if (m[1] === '1') return 1;
  if (m[1] === '0') return 0;
  return null;
}
