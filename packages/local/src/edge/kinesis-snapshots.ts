import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PERSIST_INTERVAL_MS } from "./kinesis-mock";

const SNAPSHOT_FILE = "kinesis-data.json";

/**
 * Copies kinesis-mock's state file to a durable snapshot whenever it holds a complete version,
 * and tracks up to when acknowledged writes are covered by it.
 */
export class SnapshotKeeper {
  readonly liveDir: string;
  readonly #snapshot: string;
  #lastSeenMtime = 0;
  #lastCopiedMtime = 0;
  #lastCopiedText = "";
  /** Writes acknowledged before this instant are in the snapshot on disk. */
  durableThrough = 0;
  #timer: NodeJS.Timeout | undefined;
  #capturing: Promise<void> | undefined;

  constructor(dataDir: string) {
    this.liveDir = join(dataDir, "live");
    this.#snapshot = join(dataDir, SNAPSHOT_FILE);
  }

  /** Seeds kinesis-mock's live file from the last durable snapshot before it starts. */
  async prepare() {
    await rm(this.liveDir, { recursive: true, force: true });
    await mkdir(this.liveDir, { recursive: true });
    try {
      await copyFile(this.#snapshot, join(this.liveDir, SNAPSHOT_FILE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  start() {
    this.#timer = setInterval(() => void this.capture(), PERSIST_INTERVAL_MS / 2);
    this.#timer.unref();
  }

  stop() {
    clearInterval(this.#timer);
  }

  /** Deletes every persisted version; the copy loop is paused so none is resurrected. */
  async wipe() {
    this.stop();
    await this.#capturing;
    await rm(this.#snapshot, { force: true });
    this.#lastSeenMtime = 0;
    this.#lastCopiedMtime = 0;
    this.#lastCopiedText = "";
    this.durableThrough = 0;
    await this.prepare();
    this.start();
  }

  capture(): Promise<void> {
    this.#capturing ??= this.#captureOnce().finally(() => {
      this.#capturing = undefined;
    });
    return this.#capturing;
  }

  async #captureOnce() {
    const live = join(this.liveDir, SNAPSHOT_FILE);
    let mtime: number;
    try {
      mtime = (await stat(live)).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.#lastSeenMtime) return;
    const text = await readFile(live, "utf8");
    if (text.length === 0) return; // truncated for a rewrite
    // kinesis-mock rewrites the file every period even when nothing changed: skip identical copies.
    if (text !== this.#lastCopiedText) {
      try {
        JSON.parse(text);
      } catch {
        return; // caught mid-rewrite; the next period brings a complete one
      }
      await writeFile(`${this.#snapshot}.tmp`, text);
      await rename(`${this.#snapshot}.tmp`, this.#snapshot);
      this.#lastCopiedText = text;
    }
    this.#lastSeenMtime = mtime;
    // kinesis-mock persists, then sleeps, then serialises again: the version finished at the
    // previous mtime was already complete, so this one holds every write acknowledged before it.
    if (this.#lastCopiedMtime > 0) this.durableThrough = this.#lastCopiedMtime;
    this.#lastCopiedMtime = mtime;
  }
}
