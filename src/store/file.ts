import { closeSync, createWriteStream, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { appendFile, mkdir, readFile, writeFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunConfig, DatasetRow } from '../config/schema';
import { MissingStoredInputError } from '../errors';
import type { RunDocument, RunStore, StoreKind, StoredListener, StoreRef } from './types';

interface FileIndex {
  /** Bytes of the file read so far (whole lines only). */
  offset: number;
  /** Where each key's first line starts in the file: every key, but no entry. */
  at: Map<string, number>;
  /** The most recently read or written entries, up to ENTRY_CACHE (what `peek` answers without reading). */
  cache: Map<string, unknown>;
  /** Entries this process appended that no read has placed yet (their offsets are learnt on the next read). */
  mine: Map<string, unknown>;
}

// Entries an index keeps per arm and kind beyond their offsets: a window of the latest, as the PostgreSQL store keeps,
// so that a worker's memory grows with the number of keys of a run (tens of bytes each), not with their texts.
const ENTRY_CACHE = 2048;
// Appended entries awaiting their offsets, before a put reads the file to place them.
const MINE_CAP = 4096;
// How much of a file one read takes at a time.
const READ_CHUNK = 4 * 1024 * 1024;

function cacheEntry(idx: FileIndex, key: string, entry: unknown): void {
  idx.cache.delete(key);
  idx.cache.set(key, entry);
  if (idx.cache.size > ENTRY_CACHE) idx.cache.delete(idx.cache.keys().next().value!);
}

/**
 * Calls `fn` for every whole line of an open file between two offsets, reading a chunk at a time (stopping after
 * about `budget` bytes when given); returns the offset after the last whole line read (a torn last line is left for a
 * later read).
 */
function eachLine(fd: number, from: number, to: number, fn: (line: string, offset: number) => void, budget = Infinity): number {
  let offset = from;
  let chunk = READ_CHUNK;
  while (offset < to && offset - from < budget) {
    const length = Math.min(chunk, to - offset);
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    let start = 0;
    for (let end = buf.indexOf(0x0a); end >= 0 && end < n; end = buf.indexOf(0x0a, start)) {
      if (end > start) fn(buf.toString('utf8', start, end), offset + start);
      start = end + 1;
    }
    if (start === 0) {
      // No whole line in the chunk: a line longer than it (read a larger one), or a torn last line (stop).
      if (length >= to - offset) break;
      chunk *= 2;
      continue;
    }
    offset += start;
  }
  return offset;
}

/** Whether JSON escapes a character of the text (a quote, a backslash, a control character), so it may not appear as it is in a line. */
function escapedInJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return true;
  }
  return false;
}

// One buffer for reading single lines again (a whole-run pass reads hundreds of thousands), grown as needed.
let lineBuffer = Buffer.allocUnsafe(64 * 1024);

/** The JSON line that starts at `offset` of an open file (whole lines only are indexed, so it ends in a newline). */
function readLineAt(fd: number, offset: number): string {
  // A few kilobytes first (a record's line is one or two), more only for a longer line.
  let want = 4096;
  let have = 0;
  for (;;) {
    if (want > lineBuffer.length) {
      const bigger = Buffer.allocUnsafe(want);
      lineBuffer.copy(bigger, 0, 0, have);
      lineBuffer = bigger;
    }
    const n = readSync(fd, lineBuffer, have, want - have, offset + have);
    const end = lineBuffer.subarray(0, have + n).indexOf(0x0a, have);
    if (end >= 0) return lineBuffer.toString('utf8', 0, end);
    have += n;
    if (n === 0 || have < want) return lineBuffer.toString('utf8', 0, have);
    want *= 4;
  }
}

/** A file opened for reading, or undefined when there is none yet. */
function openIfThere(file: string): number | undefined {
  try {
    return openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A string of its own, not a slice of a longer one (JSON.parse makes new strings; a key has no quote or backslash). */
function ownCopy(key: string): string {
  try {
    return JSON.parse(`"${key}"`) as string;
  } catch {
    return Buffer.from(key, 'utf8').toString('utf8');
  }
}

/**
 * The key of a stored line, read without parsing the whole line where it has the form `put` writes (`{"key":"...",`
 * first, the key without escapes, the line closed); null where the line must be parsed (or is torn).
 */
function quickKey(line: string): string | null {
  if (!line.startsWith('{"key":"') || line.charCodeAt(line.length - 1) !== 0x7d) return null;
  const end = line.indexOf('"', 8);
  if (end < 0) return null;
  const key = line.slice(8, end);
  return key.includes('\\') ? null : key;
}

/**
 * The file store, the embedded default: `<output.dir>/<runId>/store/<arm>/<kind>.jsonl`, append-only, and the run's
 * document in `<output.dir>/<runId>/config.json`. Entries are keyed, so a write repeated by a retried activity
 * leaves one entry (the first); a torn last line from a crash is ignored. Worker processes on one host share it
 * through the file system; each keeps an index it tops up from the file: where every key's line is, and the latest
 * entries themselves (older ones are read again from the file when asked for). Other hosts cannot see it.
 */
export class FileRunStore implements RunStore {
  private readonly indexes = new Map<string, FileIndex>();
  private config?: RunConfig;
  private rows?: Map<string, DatasetRow>;
  readonly ref: StoreRef;

  constructor(readonly dir: string) {
    this.ref = { kind: 'file', dir };
  }

  // File paths by arm and kind: looked up for every entry, so joined once.
  private readonly files = new Map<string, string>();

  private file(arm: string, kind: StoreKind): string {
    const id = `${arm}\u0000${kind}`;
    let f = this.files.get(id);
    if (f === undefined) {
      f = join(this.dir, 'store', arm, `${kind}.jsonl`);
      this.files.set(id, f);
    }
    return f;
  }

  private index(file: string): FileIndex {
    let idx = this.indexes.get(file);
    if (!idx) {
      idx = { offset: 0, at: new Map(), cache: new Map(), mine: new Map() };
      this.indexes.set(file, idx);
    }
    return idx;
  }

  /**
   * Reads the whole lines other writers (and this process) appended since the last read, noting where each new key
   * starts. Synchronous, in chunks: one read never interleaves with another, so none is skipped or read twice.
   */
  private catchUp(file: string): FileIndex {
    const idx = this.index(file);
    const fd = openIfThere(file);
    if (fd === undefined) return idx;
    try {
      idx.offset = eachLine(fd, idx.offset, fstatSync(fd).size, (line, offset) => this.place(idx, line, offset));
    } finally {
      closeSync(fd);
    }
    return idx;
  }

  /**
   * Notes a line read from the file: the first line of a key wins (an entry of ours that lost to another writer's
   * gives way). Only the key is read where it can be; a line that turns out torn when read whole is dropped then
   * (see `entryAt`).
   */
  private place(idx: FileIndex, line: string, offset: number): void {
    let key = quickKey(line);
    let parsed: { key: string } | undefined;
    if (key === null) {
      try {
        parsed = JSON.parse(line) as { key: string };
        key = parsed.key;
      } catch {
        // A line torn by a crash mid-write: the entry is simply redone.
        return;
      }
    }
    if (idx.at.has(key)) return;
    // A key sliced from its line would keep the whole line alive in V8 (a sliced string): the index keeps a copy.
    if (!parsed) key = ownCopy(key);
    idx.at.set(key, offset);
    const mine = idx.mine.get(key);
    if (mine !== undefined) {
      idx.mine.delete(key);
      cacheEntry(idx, key, mine);
    } else if (parsed) cacheEntry(idx, key, parsed);
  }

  /**
   * The entry on the line at a key's offset. A line whose key was read quickly but which does not parse was torn
   * by a crash: it is forgotten, and the key's next whole line in the file, if any, takes its place.
   */
  private entryAt<T>(fd: number, idx: FileIndex, key: string, offset: number): T | undefined {
    try {
      return JSON.parse(readLineAt(fd, offset)) as T;
    } catch {
      idx.at.delete(key);
      let found: { offset: number; entry: T } | undefined;
      eachLine(fd, offset + 1, idx.offset, (line, at) => {
        if (found || quickKey(line) !== key && !line.includes(JSON.stringify(key))) return;
        try {
          const e = JSON.parse(line) as T & { key: string };
          if (e.key === key) found = { offset: at, entry: e };
        } catch {
          // torn as well
        }
      });
      if (!found) return undefined;
      idx.at.set(key, found.offset);
      return found.entry;
    }
  }

  /** Reads what was appended since the last read (kept as a promise for the callers' sake). */
  private refresh(file: string): Promise<FileIndex> {
    try {
      return Promise.resolve(this.catchUp(file));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The entry under a key as far as this process has read the file: from memory, or its line read again. */
  private entry<T>(file: string, idx: FileIndex, key: string, keep: boolean): T | undefined {
    const cached = idx.cache.get(key) ?? idx.mine.get(key);
    if (cached !== undefined) return cached as T;
    const offset = idx.at.get(key);
    if (offset === undefined) return undefined;
    const fd = openSync(file, 'r');
    try {
      const e = this.entryAt<T>(fd, idx, key, offset);
      if (keep && e !== undefined) cacheEntry(idx, key, e);
      return e;
    } finally {
      closeSync(fd);
    }
  }

  /** The entry stored under a key, or undefined. */
  async get<T>(arm: string, kind: StoreKind, key: string): Promise<T | undefined> {
    const file = this.file(arm, kind);
    const known = this.peek<T>(arm, kind, key);
    if (known !== undefined) return known;
    return this.entry<T>(file, await this.refresh(file), key, true);
  }

  /** Stores an entry under its key unless one is there already; returns the stored entry. */
  async put<T extends { key: string }>(arm: string, kind: StoreKind, entry: T): Promise<T> {
    // Only what this process knows is checked: the callers looked in the file just before (prime, get), and a
    // rare second line for the key (two retries racing) is harmless, because readers keep the first.
    const existing = this.peek<T>(arm, kind, entry.key);
    if (existing !== undefined) return existing;
    const file = this.file(arm, kind);
    // One write call per line on an O_APPEND descriptor: concurrent appenders never interleave inside a line.
    // Synchronous on purpose: a small append costs a few microseconds this way, against some sixty of CPU
    // through the promise API, and it is on the path of every request.
    writeSync(this.appender(arm, file), `${JSON.stringify(entry)}\n`);
    const idx = this.index(file);
    idx.mine.set(entry.key, entry);
    // Place what this process appended now and then, so entries waiting for their offsets stay few.
    if (idx.mine.size > MINE_CAP) this.catchUp(file);
    for (const fn of this.listeners) fn(arm, kind, entry.key);
    return entry;
  }

  private readonly listeners = new Set<StoredListener>();

  /**
   * Calls `fn` for every entry this process stores, until the returned function is called: how a batch learns
   * at once that an input another activity is making exists (writers in other processes are seen by prime).
   */
  onStored(fn: StoredListener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  private readonly appenders = new Map<string, number>();

  private appender(arm: string, file: string): number {
    let fd = this.appenders.get(file);
    if (fd === undefined) {
      mkdirSync(join(this.dir, 'store', arm), { recursive: true });
      const opened = openSync(file, 'a+');
      // A line torn by a crash must not swallow the next entry: end it first (an empty line is skipped).
      const size = fstatSync(opened).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(opened, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) writeSync(opened, '\n');
      }
      fd = opened;
      this.appenders.set(file, opened);
      openHandles.push({
        store: this,
        close: () => {
          // A no-op when the store was closed (and the descriptor with it) in the meantime.
          if (this.appenders.get(file) !== opened) return;
          this.appenders.delete(file);
          closeSync(opened);
        },
      });
      // A long-lived worker serves many runs: keep only the most recently opened descriptors.
      while (openHandles.length > MAX_OPEN_APPENDERS) openHandles.shift()!.close();
    }
    return fd;
  }

  /** What this process holds of the store: keys it knows the place of, and entries it keeps (for tests and benches). */
  held(): { keys: number; entries: number } {
    let keys = 0;
    let entries = 0;
    for (const idx of this.indexes.values()) {
      keys += idx.at.size;
      entries += idx.cache.size + idx.mine.size;
    }
    return { keys, entries };
  }

  /** Closes this store's append descriptors and drops its indexes (a later write or read opens them again). */
  close(): void {
    for (const fd of this.appenders.values()) closeSync(fd);
    this.appenders.clear();
    this.indexes.clear();
    // Nothing global may keep this store alive.
    for (let i = openHandles.length - 1; i >= 0; i--) if (openHandles[i]!.store === this) openHandles.splice(i, 1);
  }

  /** The entry under a key as far as this process has read the file (its line read again if it is not in memory). */
  peek<T>(arm: string, kind: StoreKind, key: string): T | undefined {
    const file = this.file(arm, kind);
    const idx = this.indexes.get(file);
    return idx ? this.entry<T>(file, idx, key, true) : undefined;
  }

  /** Reads what was appended to a kind's file since this process last looked (one stat when nothing was). */
  async prime(arm: string, kind: StoreKind): Promise<void> {
    await this.refresh(this.file(arm, kind));
  }

  /** Reads the kind's file as `prime` does, then the entries under these keys (kept for `peek` as the latest). */
  async load<T>(arm: string, kind: StoreKind, keys: readonly string[]): Promise<Map<string, T>> {
    return this.read<T>(arm, kind, keys, true);
  }

  /** The entries under these keys, not kept in memory beyond the answer. */
  async lookup<T>(arm: string, kind: StoreKind, keys: readonly string[]): Promise<Map<string, T>> {
    return this.read<T>(arm, kind, keys, false);
  }

  private async read<T>(arm: string, kind: StoreKind, keys: readonly string[], keep: boolean): Promise<Map<string, T>> {
    const file = this.file(arm, kind);
    const idx = await this.refresh(file);
    const found = new Map<string, T>();
    const wanted: { key: string; offset: number }[] = [];
    for (const k of keys) {
      const e = idx.cache.get(k) ?? idx.mine.get(k);
      if (e !== undefined) found.set(k, e as T);
      else {
        const offset = idx.at.get(k);
        if (offset !== undefined) wanted.push({ key: k, offset });
      }
    }
    if (wanted.length === 0) return found;
    // In file order, through one descriptor.
    wanted.sort((a, b) => a.offset - b.offset);
    const fd = openSync(file, 'r');
    try {
      for (const w of wanted) {
        const e = this.entryAt<T>(fd, idx, w.key, w.offset);
        if (e === undefined) continue;
        if (keep) cacheEntry(idx, w.key, e);
        found.set(w.key, e);
      }
    } finally {
      closeSync(fd);
    }
    return found;
  }

  /**
   * Keys of an arm's records whose thought or suffix (lowercased) holds every term: one sequential read of its file,
   * parsing only the lines whose text holds the terms at all.
   */
  async searchRecords(arm: string, terms: readonly string[]): Promise<string[]> {
    const file = this.file(arm, 'records');
    const idx = await this.refresh(file);
    const quick = terms.every((t) => !escapedInJson(t));
    const keys: string[] = [];
    const fd = openIfThere(file);
    if (fd === undefined) return keys;
    try {
      eachLine(fd, 0, idx.offset, (line, offset) => {
        if (quick) {
          const lower = line.toLowerCase();
          if (!terms.every((t) => lower.includes(t))) return;
        }
        let r: { key: string; thought?: string; suffix?: string };
        try {
          r = JSON.parse(line) as typeof r;
        } catch {
          return;
        }
        if (idx.at.get(r.key) !== offset) return;
        const text = `${r.thought ?? ''}\u0000${r.suffix ?? ''}`.toLowerCase();
        if (terms.every((t) => text.includes(t))) keys.push(r.key);
      });
    } finally {
      closeSync(fd);
    }
    return keys;
  }

  /** How many keys of a kind an arm has. */
  async count(arm: string, kind: StoreKind): Promise<number> {
    const idx = await this.refresh(this.file(arm, kind));
    let n = idx.at.size;
    for (const k of idx.mine.keys()) if (!idx.at.has(k)) n++;
    return n;
  }

  /** Every entry of a kind for an arm, first write wins, read from the file in order. */
  async all<T>(arm: string, kind: StoreKind): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this.scan<T>(arm, kind)) out.push(...page);
    return out;
  }

  /** Every entry of a kind for an arm, first write wins, in pages in the file's order (one sequential read), none kept in memory. */
  async *scan<T>(arm: string, kind: StoreKind, pageSize = 1000): AsyncGenerator<T[]> {
    const file = this.file(arm, kind);
    const idx = await this.refresh(file);
    const end = idx.offset;
    const fd = openIfThere(file);
    if (fd !== undefined) {
      try {
        for (let pos = 0; pos < end;) {
          const page: T[] = [];
          const next = eachLine(fd, pos, end, (line, offset) => {
            const quick = quickKey(line);
            if (quick !== null && idx.at.get(quick) !== offset) return;
            let e: T & { key: string };
            try {
              e = JSON.parse(line) as T & { key: string };
            } catch {
              // Torn: its key's next whole line takes its place, and is met further on.
              if (quick !== null) this.entryAt(fd!, idx, quick, offset);
              return;
            }
            if (idx.at.get(e.key) === offset) page.push(e);
          }, READ_CHUNK);
          if (next === pos) break;
          pos = next;
          for (let i = 0; i < page.length; i += pageSize) yield page.slice(i, i + pageSize);
        }
      } finally {
        closeSync(fd);
      }
    }
    const unplaced = [...idx.mine].filter(([k]) => !idx.at.has(k)).map(([, e]) => e as T);
    if (unplaced.length) yield unplaced;
  }

  /** The run's document: config.json in the run directory. */
  async readDocument(): Promise<RunDocument | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'config.json'), 'utf8')) as RunDocument;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Writes config.json atomically. */
  async writeDocument(doc: RunDocument): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, 'config.json'), `${JSON.stringify(doc, null, 2)}\n`);
  }

  /** The run's resolved config, as prepareRun wrote it. */
  async runConfig(): Promise<RunConfig> {
    if (!this.config) {
      const doc = await this.readDocument();
      if (!doc) throw new MissingStoredInputError(`the run's config (${join(this.dir, 'config.json')})`);
      this.config = doc.config;
    }
    return this.config;
  }

  /** Appends the whole lines of an earlier run's file of this arm and kind (a line torn by a crash is left behind). */
  async reuse(from: RunStore, arm: string, kind: StoreKind): Promise<number> {
    if (!(from instanceof FileRunStore)) {
      let n = 0;
      for (const e of await from.all<{ key: string }>(arm, kind)) if ((await this.put(arm, kind, e)) === e) n++;
      return n;
    }
    let text: string;
    try {
      text = await readFile(from.file(arm, kind), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    if (!whole) return 0;
    const to = this.file(arm, kind);
    await mkdir(dirname(to), { recursive: true });
    await appendFile(to, whole);
    return whole.split('\n').length - 1;
  }

  /** A dataset row of the run by prefix id. */
  async row(prefixId: string): Promise<DatasetRow> {
    if (!this.rows) this.rows = new Map((await this.runConfig()).dataset.rows!.map((r) => [r.id, r]));
    const r = this.rows.get(prefixId);
    if (!r) throw new MissingStoredInputError(`prefix ${prefixId} of the run's dataset`);
    return r;
  }
}

// Closers of the append handles open in this process, oldest first.
const openHandles: { store: FileRunStore; close: () => void }[] = [];
const MAX_OPEN_APPENDERS = 48;

/** Writes one JSON line per item to a file atomically, streaming, so no copy of the whole file is held in memory. */
export async function writeJsonLinesAtomic(file: string, items: Iterable<unknown>): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  for (const item of items) {
    if (!out.write(`${JSON.stringify(item)}\n`)) await Promise.race([once(out, 'drain'), failed]);
  }
  await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
  await rename(tmp, file);
}

/** Writes a file atomically (temporary name, then rename), so a crash never leaves half an artifact. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

/**
 * Files written under temporary names and renamed into place together once every one is complete (`commit`), or
 * removed (`abort`): how a set of artifacts is written all or nothing, each streamed or whole.
 */
export class StagedFiles {
  private readonly staged: { tmp: string; file: string }[] = [];

  private tmpOf(file: string): string {
    const tmp = `${file}.tmp-${process.pid}`;
    this.staged.push({ tmp, file });
    return tmp;
  }

  /** Writes a file's whole content under its temporary name. */
  async write(file: string, content: string): Promise<void> {
    await writeFile(this.tmpOf(file), content);
  }

  /** Opens a file's temporary name for streaming; `line` writes (waiting when the stream is full), `end` closes it. */
  stream(file: string): { line: (text: string) => Promise<void>; end: () => Promise<void>; path: string } {
    const path = this.tmpOf(file);
    const out = createWriteStream(path);
    let failure: unknown;
    out.on('error', (e) => (failure = e));
    const failed = new Promise<never>((_, reject) => out.once('error', reject));
    failed.catch(() => undefined);
    return {
      path,
      line: async (text) => {
        if (failure) throw failure;
        if (!out.write(`${text}\n`)) await Promise.race([once(out, 'drain'), failed]);
      },
      end: () => Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]),
    };
  }

  /** Renames every staged file into place. */
  async commit(): Promise<void> {
    for (const s of this.staged) await rename(s.tmp, s.file);
    this.staged.length = 0;
  }

  /** Removes every staged file that is still under its temporary name. */
  async abort(): Promise<void> {
    await Promise.all(this.staged.map((s) => rm(s.tmp, { force: true })));
    this.staged.length = 0;
  }
}
