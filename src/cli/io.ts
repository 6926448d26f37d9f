import { mkdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes files all-or-nothing: each goes to a temporary name first and is renamed only when every one was written. */
export function writeFilesAtomically(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  const tmp: string[] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const target = join(dir, name);
      mkdirSync(dirname(target), { recursive: true });
      const t = `${target}.tmp-${process.pid}`;
      writeFileSync(t, content);
      tmp.push(t);
    }
  } catch (e) {
    for (const t of tmp) rmSync(t, { force: true });
    throw e;
  }
  return Object.keys(files).map((name) => {
    const target = join(dir, name);
    renameSync(`${target}.tmp-${process.pid}`, target);
    return target;
  });
}
