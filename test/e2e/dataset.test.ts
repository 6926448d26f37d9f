import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/configs';

const root = join(__dirname, '..', '..');
const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/thought-probe.js'), ...args], { cwd: root, encoding: 'utf8' });

test('dataset split cuts documents into rows of exact word counts and reports skipped ones', () => {
  const dir = tempDir();
  const docs = join(dir, 'docs.jsonl');
  const words = Array.from({ length: 33 }, (_, i) => `w${i}`).join(' ');
  writeFileSync(docs, `${JSON.stringify({ id: 'a', text: words, sourceId: 'book' })}\n${JSON.stringify({ id: 'b', text: 'too short' })}\n`);
  const out = join(dir, 'rows.jsonl');
  const r = cli('dataset', 'split', docs, '--prefix-words', '10', '--suffix-words', '5', '--out', out);
  expect(r.status).toBe(0);
  expect(r.stderr).toContain('skipped 1: b');
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(rows.map((x) => x.id)).toEqual(['a-0', 'a-1']);
  expect(rows[1]).toEqual({ id: 'a-1', prefix: 'w15 w16 w17 w18 w19 w20 w21 w22 w23 w24', suffix: 'w25 w26 w27 w28 w29', sourceId: 'book' });
  // The rows are a valid dataset for a config.
  writeFileSync(join(dir, 'c.yaml'), `name: t\ndataset: { path: rows.jsonl }\narms: [{ name: a, baseURL: "http://x/v1", model: m }]\njudge: { baseURL: "http://x/v1" }\n`);
  expect(execFileSync(process.execPath, [join(root, 'bin/thought-probe.js'), 'config', 'check', join(dir, 'c.yaml')], { encoding: 'utf8' })).toContain('2 prefixes');
});

test('dataset split rejects a malformed line and a bad word count with exit 2, writing nothing', () => {
  const dir = tempDir();
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, `${JSON.stringify({ id: 'a', text: 'x y z' })}\n{"id": "b"}\n`);
  const out = join(dir, 'rows.jsonl');
  const bad = cli('dataset', 'split', docs, '--prefix-words', '1', '--suffix-words', '1', '--out', out);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('line 2');
  expect(bad.stderr).toContain('text');
  expect(existsSync(out)).toBe(false);
  const zero = cli('dataset', 'split', docs, '--prefix-words', '0', '--suffix-words', '1');
  expect(zero.status).toBe(2);
  expect(zero.stderr).toContain('--prefix-words');
});
