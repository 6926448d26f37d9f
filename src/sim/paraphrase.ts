import { paraphrase } from './arm';
import { rngFrom } from './rng';

/**
 * A simulated paraphrase of the thought between the prompt's last <thought> tags: the same words, about one in ten
 * dropped or swapped with a neighbour, seeded by the request (an empty thought stays empty).
 */
export function paraphraseThought(prompt: string, seed: number | undefined): string {
  const open = prompt.lastIndexOf('<thought>');
  const close = open >= 0 ? prompt.indexOf('</thought>', open) : -1;
  const thought = open >= 0 && close >= 0 ? prompt.slice(open + 9, close).trim() : '';
  if (thought === '') return '';
  return paraphrase(thought, rngFrom('paraphrase', seed, thought));
}
