import { closeSync, createWriteStream, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { appendFile, mkdir, open, readFile, writeFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunConfig, DatasetRow } from '../config/schema';
import { MissingStoredInputError } from '../errors';
import type { RunDocument, RunStore, StoreKind, StoredListener, StoreRef } from './types';

interface FileIndex {
  offset: number;
  entries: Map<string, unknown>;
}

/**
 * The file store, the embedded default: `<output.dir>/<runId>/store/<arm>/<kind>.jsonl`, append-only, and the run's
 * document in `<output.dir>/<runId>/config.json`. Entries are keyed, so a write repeated by a retried activity
 * leaves one entry (the first); a torn last line from a crash is ignored. Worker processes on one host share it
 * through the file system; each keeps an index it tops up from the file. Other hosts cannot see it.
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

  private readonly refreshing = new Map<string, Promise<FileIndex>>();

  /** Reads what other writers appended since the last read; one read per file at a time, so none is skipped. */
  private refresh(file: string): Promise<FileIndex> {
    const previous = this.refreshing.get(file) ?? Promise.resolve(undefined);
    const next = previous.then(() => this.readNew(file));
    // A failed read must not poison later ones.
    this.refreshing.set(file, next.catch(() => undefined) as Promise<FileIndex>);
    return next;
  }

  private async readNew(file: string): Promise<FileIndex> {
    let idx = this.indexes.get(file);
    if (!idx) {
      idx = { offset: 0, entries: new Map() };
      this.indexes.set(file, idx);
    }
    // One stat when nothing was appended (the common case); the file is opened only when it grew.
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return idx;
      throw e;
    }
    if (size <= idx.offset) return idx;
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(size - idx.offset);
      await fh.read(buf, 0, buf.length, idx.offset);
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) return idx;
      for (const line of text.slice(0, end).split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as { key: string };
          if (!idx.entries.has(e.key)) idx.entries.set(e.key, e);
        } catch {
          // A line torn by a crash mid-write: the entry is simply redone.
        }
      }
      idx.offset += Buffer.byteLength(text.slice(0, end + 1), 'utf8');
    } finally {
      await fh.close();
    }
    return idx;
  }

  /** The entry stored under a key, or undefined. */
  async get<T>(arm: string, kind: StoreKind, key: string): Promise<T | undefined> {
    const file = this.file(arm, kind);
    const cached = this.indexes.get(file)?.entries.get(key);
    if (cached !== undefined) return cached as T;
    return (await this.refresh(file)).entries.get(key) as T | undefined;
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
    this.indexes.get(file)?.entries.set(entry.key, entry);
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

  /** Closes this store's append descriptors and drops its indexes (a later write or read opens them again). */
  close(): void {
    for (const fd of this.appenders.values()) closeSync(fd);
    this.appenders.clear();
    this.indexes.clear();
    // The last read of each file holds its index too; and nothing global may keep this store alive.
    this.refreshing.clear();
    for (let i = openHandles.length - 1; i >= 0; i--) if (openHandles[i]!.store === this) openHandles.splice(i, 1);
  }

  /** The entry under a key as far as this process has read the file (no file access). */
  peek<T>(arm: string, kind: StoreKind, key: string): T | undefined {
    return this.indexes.get(this.file(arm, kind))?.entries.get(key) as T | undefined;
  }

  /** Reads what was appended to a kind's file since this process last looked (one stat when nothing was). */
  async prime(arm: string, kind: StoreKind): Promise<void> {
    await this.refresh(this.file(arm, kind));
  }

  /** Reads the kind's file as `prime` does: a file is read from where this process left it, not by key. */
  async load<T>(arm: string, kind: StoreKind, keys: readonly string[]): Promise<Map<string, T>> {
    const idx = await this.refresh(this.file(arm, kind));
    const found = new Map<string, T>();
    for (const k of keys) {
      const e = idx.entries.get(k);
      if (e !== undefined) found.set(k, e as T);
    }
    return found;
  }

  /** Every entry of a kind for an arm, first write wins. */
  async all<T>(arm: string, kind: StoreKind): Promise<T[]> {
    return [...(await this.refresh(this.file(arm, kind))).entries.values()] as T[];
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
