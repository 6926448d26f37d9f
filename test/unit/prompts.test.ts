import {
  DEFAULT_JUDGE_PROMPT,
  DEFAULT_SCORE_PATTERN,
  DEFAULT_SUFFIX_TEMPLATE,
  DEFAULT_THOUGHT_TEMPLATE,
  cleanSuffix,
  extractThought,
  judgePrompt,
  parseJudgeScore,
  suffixPrompt,
  thoughtPrompt,
} from '../../src/experiment/prompts';

describe('thoughtPrompt', () => {
  it('trims the end of the prefix and appends " <think>"', () => {
    expect(thoughtPrompt(DEFAULT_THOUGHT_TEMPLATE, 'Some text.  \n')).toBe('Some text. <think>');
  });

  it('keeps leading whitespace of the prefix', () => {
    expect(thoughtPrompt(DEFAULT_THOUGHT_TEMPLATE, '  Some text.')).toBe('  Some text. <think>');
  });

  it('uses a custom template', () => {
    expect(thoughtPrompt('Q: {prefix}\nA:', 'hi ')).toBe('Q: hi\nA:');
  });
});

describe('suffixPrompt', () => {
  it('is the thought prompt, the trimmed thought and a closing tag', () => {
    expect(suffixPrompt(DEFAULT_SUFFIX_TEMPLATE, 'Some text.  \n', '  idea  ')).toBe('Some text. <think>idea</think>');
  });

  it('writes an empty thought span for a blank thought', () => {
    expect(suffixPrompt(DEFAULT_SUFFIX_TEMPLATE, 'Some text.', '')).toBe('Some text. <think></think>');
    expect(suffixPrompt(DEFAULT_SUFFIX_TEMPLATE, 'Some text.', ' \n ')).toBe('Some text. <think></think>');
  });

  it('does not expand a placeholder that appears inside the prefix or the thought', () => {
    expect(suffixPrompt(DEFAULT_SUFFIX_TEMPLATE, 'a {thought} b', '{prefix}')).toBe('a {thought} b <think>{prefix}</think>');
  });
});

describe('extractThought', () => {
  it('takes the trimmed text before a closing tag and marks it closed', () => {
    expect(extractThought('  plan it </think> extra', 'length')).toEqual({ thought: 'plan it', closedThought: true });
  });

  it('marks a thought closed when the server stopped on the stop sequence', () => {
    expect(extractThought(' plan it ', 'stop')).toEqual({ thought: 'plan it', closedThought: true });
  });

  it('marks a thought not closed when the token budget ran out', () => {
    expect(extractThought(' plan it ', 'length')).toEqual({ thought: 'plan it', closedThought: false });
  });

  it('marks a thought not closed when the finish reason is missing', () => {
    expect(extractThought('plan', null)).toEqual({ thought: 'plan', closedThought: false });
    expect(extractThought('plan', undefined)).toEqual({ thought: 'plan', closedThought: false });
  });
});

describe('cleanSuffix', () => {
  it('removes closed think spans, also across lines, and trims', () => {
    expect(cleanSuffix('  Hello <think>x\ny</think>world <think>z</think>!  ')).toBe('Hello world !');
  });

  it('removes a dangling think span to the end of the text', () => {
    expect(cleanSuffix('Text here <think>unfinished\nthought')).toBe('Text here');
  });

  it('removes a stray closing tag', () => {
    expect(cleanSuffix('a</think> b')).toBe('a b');
  });

  it('leaves a text without tags unchanged apart from trimming', () => {
    expect(cleanSuffix('\n plain text \n')).toBe('plain text');
  });

  it('returns an empty string when everything was thought', () => {
    expect(cleanSuffix('<think>only thinking</think>')).toBe('');
  });
});

describe('judgePrompt', () => {
  it('fills {prefix}, {reference} and {prediction}', () => {
    expect(judgePrompt('P={prefix} R={reference} X={prediction}', 'p', 'r', 'x')).toBe('P=p R=r X=x');
  });

  it('fills the default template', () => {
    const out = judgePrompt(DEFAULT_JUDGE_PROMPT, 'PFX', 'REF', 'PRED');
    expect(out).toContain('<context>\nPFX\n</context>');
    expect(out).toContain('<reference>\nREF\n</reference>');
    expect(out).toContain('<prediction>\nPRED\n</prediction>');
    expect(out).not.toContain('{prefix}');
  });

  it('cuts texts longer than 2000 characters to 2000 and leaves 2000 as it is', () => {
    const out = judgePrompt('{prefix}|{reference}|{prediction}', 'a'.repeat(2500), 'b'.repeat(2000), 'c'.repeat(2001));
    const [p, r, x] = out.split('|');
    expect(p).toHaveLength(2000);
    expect(r).toHaveLength(2000);
    expect(x).toHaveLength(2000);
  });

  it('does not expand placeholders inside the filled texts', () => {
    expect(judgePrompt('{prefix}|{reference}|{prediction}', '{reference}', '{prediction}', '{prefix}')).toBe('{reference}|{prediction}|{prefix}');
  });

  it('leaves unknown placeholders as they are', () => {
    expect(judgePrompt('{other} {prefix}', 'p', 'r', 'x')).toBe('{other} p');
  });
});

describe('parseJudgeScore', () => {
  it('uses the pattern of EXPERIMENT.md by default', () => {
    expect(DEFAULT_SCORE_PATTERN).toBe('"score"\\s*:\\s*([01])');
  });

  it.each([
    ['{"score": 1}', 1],
    ['{"score":0}', 0],
    ['{\n  "score" :  1\n}', 1],
    ['Sure! {"score": 1} because it matches.', 1],
    ['Score: 1', null],
    ['{"score": 2}', null],
    ['{"score": "1"}', null],
    ['{"Score": 1}', null],
    ['', null],
  ] as const)('%j -> %p', (answer, expected) => {
    expect(parseJudgeScore(answer)).toBe(expected);
  });

  it('takes the first match', () => {
    expect(parseJudgeScore('{"score": 0} ... {"score": 1}')).toBe(0);
    expect(parseJudgeScore('{"score": 1} ... {"score": 0}')).toBe(1);
  });

  it('reads only the first digit, as the contract pattern has no boundary ("score": 10 -> 1)', () => {
    expect(parseJudgeScore('{"score": 10}')).toBe(1);
  });

  it('uses a custom pattern', () => {
    expect(parseJudgeScore('Score: 1', 'Score:\\s*(\\d)')).toBe(1);
    expect(parseJudgeScore('Score: 0', 'Score:\\s*(\\d)')).toBe(0);
    expect(parseJudgeScore('Score: 7', 'Score:\\s*(\\d)')).toBeNull();
    expect(parseJudgeScore('{"score": 1}', 'Score:\\s*(\\d)')).toBeNull();
  });

  it('treats a pattern without a capture group as never valid', () => {
    expect(parseJudgeScore('{"score": 1}', '"score"')).toBeNull();
  });
});
