/**
 * The kill -9 durability tests' writer: runs a fixture script on a data directory, waits for the
 * JSON line it prints with `ready: true` once its writes are acknowledged, then SIGKILLs it (no
 * shutdown hooks run) and hands the exit to `checkExit`. `onLine` sees every line read before the
 * kill (a writer may report each acknowledgement as it gets it).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export async function writeThenKill<T>(
  fixture: string,
  dataDir: string,
  checkExit: (exit: NodeJS.Signals | number | null) => void,
  onLine?: (line: unknown) => void,
): Promise<T> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "fixtures", fixture), dataDir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code)),
  );
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const parsed = JSON.parse(line) as T & { ready?: boolean };
      onLine?.(parsed);
      if (parsed.ready) return parsed;
    }
    throw new Error(`writer exited before ready: ${stderr}`);
  } finally {
    child.kill("SIGKILL");
    checkExit(await exited);
  }
}
