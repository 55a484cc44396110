import fs from "node:fs";
import path from "node:path";

/**
 * A cross-process lock as a directory (mkdir is atomic): bounded wait, and a lock left by a dead
 * process is taken over. SST regenerates `.sst/types` in place on every App, so two processes
 * synthesizing at once would trip over each other; the local cloud's assembly cache is filled
 * under one too. Not reentrant within a process.
 */
export async function acquireDirectoryLock(lock: string): Promise<() => void> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!lockHolderAlive(lock)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function lockHolderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
  } catch {
    // The holder is between mkdir and writing its pid, or died right there: a lock that old
    // (over a minute) is abandoned.
    const stat = fs.statSync(lock, { throwIfNoEntry: false });
    return stat !== undefined && Date.now() - stat.mtimeMs < 60_000;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
