/**
 * Append-only JSON-lines journal: the persistence of the emulated control-plane services.
 *
 * Each service keeps its state in memory and describes every mutation as one record, applied by a
 * single `apply` function both on replay and live. `commit` writes the record, fsyncs, and only
 * then applies it, so a response sent after `commit` survives kill -9 and memory never holds a
 * state the disk does not. On open the file is replayed; a final line torn by a crash mid-write is cut off (it was
 * never acknowledged), while damage anywhere else is an error, because silently skipping a record
 * in the middle would resurrect deleted or lose created state.
 *
 * Compaction is optional: a service may pass `snapshot`, and once the journal holds `compactAfter`
 * records it is rewritten as the snapshot (temp file, fsync, rename, fsync dir: atomic on POSIX).
 * It runs after the committed record is applied, so the snapshot always includes it. The next
 * compaction is due once the journal has doubled past the snapshot (or `compactAfter`, whichever is
 * more), so a large live state (say, many undelivered messages) is not rewritten on every commit.
 *
 * Writes are synchronous on purpose: the event loop serializes them, so concurrent requests can
 * never interleave half-written lines, and the local cloud's write rates are small.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

interface JournalOptions<T> {
  /** Directory of the journals; without it the journal is memory-only (records are not kept). */
  dataDir?: string;
  /** File stem: `<dataDir>/<name>.journal.jsonl`. */
  name: string;
  /** The current state as records, used to compact. */
  snapshot?: () => T[];
  /** Records after which to compact (default 10,000). */
  compactAfter?: number;
}

export class Journal<T> {
  private fd: number | undefined;
  private count = 0;
  private readonly compactAfter: number;
  /** The record count at which the next compaction runs. */
  private compactAt: number;
  private readonly path: string | undefined;

  private constructor(
    private readonly options: JournalOptions<T>,
    private readonly apply: (record: T) => void,
  ) {
    this.path = options.dataDir
      ? join(options.dataDir, `${options.name}.journal.jsonl`)
      : undefined;
    this.compactAfter = options.compactAfter ?? 10_000;
    this.compactAt = this.compactAfter;
  }

  /** Opens (creating if needed) and replays: `apply` sees every durable record in order. */
  static open<T>(options: JournalOptions<T>, apply: (record: T) => void): Journal<T> {
    const journal = new Journal<T>(options, apply);
    journal.replay();
    return journal;
  }

  get file(): string | undefined {
    return this.path;
  }

  private replay(): void {
    const apply = this.apply;
    if (!this.path || !this.options.dataDir) return;
    mkdirSync(this.options.dataDir, { recursive: true });
    const text = existsSync(this.path) ? readFileSync(this.path, "utf8") : "";
    const lines = text.split("\n");
    // Everything up to the last newline was fully written; the remainder is a torn tail or "".
    const tail = lines.pop() ?? "";
    const validBytes = Buffer.byteLength(text, "utf8") - Buffer.byteLength(tail, "utf8");
    lines.forEach((line, index) => {
      if (line.trim() === "") return;
      let record: T;
      try {
        record = JSON.parse(line) as T;
      } catch {
        throw new Error(`journal ${this.path}: corrupt record on line ${index + 1}`);
      }
      apply(record);
      this.count++;
    });
    if (tail.trim() !== "") {
      // A complete record whose newline did not make it is still a whole record: keep it.
      const record = tryParse<T>(tail);
      if (record !== undefined) {
        apply(record);
        this.count++;
        this.fd = openSync(this.path, "a");
        writeSync(this.fd, "\n");
        fsyncSync(this.fd);
        return;
      }
      // Otherwise torn mid-write, never acknowledged: cut it off below.
    }
    this.fd = openSync(this.path, "a");
    ftruncateSync(this.fd, validBytes);
    fsyncSync(this.fd);
  }

  /**
   * Durably records one mutation, then applies it to memory. Returns only once it is on disk
   * (memory-only journals just apply). Compacts afterwards when due.
   */
  commit(record: T): void {
    if (this.fd !== undefined) {
      writeSync(this.fd, `${JSON.stringify(record)}\n`);
      fsyncSync(this.fd);
      this.count++;
    }
    this.apply(record);
    if (this.options.snapshot && this.count >= this.compactAt) {
      this.compact(this.options.snapshot());
    }
  }

  /** Replaces the journal with `records` atomically. */
  compact(records: T[]): void {
    if (!this.path || this.fd === undefined || !this.options.dataDir) return;
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, "w");
    try {
      writeSync(fd, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    syncDir(this.options.dataDir);
    closeSync(this.fd);
    this.fd = openSync(this.path, "a");
    this.count = records.length;
    this.compactAt = Math.max(this.compactAfter, records.length * 2);
  }

  /** Empties the journal (service reset). */
  reset(): void {
    if (this.fd === undefined) return;
    ftruncateSync(this.fd, 0);
    fsyncSync(this.fd);
    this.count = 0;
    this.compactAt = this.compactAfter;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function syncDir(dir: string): void {
  // Directory fsync makes the rename durable; not supported everywhere (Windows), so best effort.
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

function tryParse<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
