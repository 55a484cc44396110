import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Journal } from "../../src/journal";

type Rec = { n: number };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "journal-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const file = () => join(dir, "svc.journal.jsonl");

function open(options: { snapshot?: () => Rec[]; compactAfter?: number } = {}) {
  const seen: Rec[] = [];
  const journal = Journal.open<Rec>({ dataDir: dir, name: "svc", ...options }, (r) => seen.push(r));
  return { journal, seen };
}

describe("Journal", () => {
  it("replays appended records in order after reopening", () => {
    const { journal } = open();
    journal.commit({ n: 1 });
    journal.commit({ n: 2 });
    journal.close();
    expect(open().seen).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("cuts off a torn final line and keeps appending after it", () => {
    writeFileSync(file(), '{"n":1}\n{"n":2}\n{"n":');
    const { journal, seen } = open();
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    journal.commit({ n: 3 });
    journal.close();
    expect(readFileSync(file(), "utf8")).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it("keeps a complete final record whose newline was lost", () => {
    writeFileSync(file(), '{"n":1}\n{"n":2}');
    const { journal, seen } = open();
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    journal.commit({ n: 3 });
    journal.close();
    expect(open().seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("refuses to open with damage before the last line", () => {
    writeFileSync(file(), '{"n":1}\nnot json\n{"n":3}\n');
    expect(() => open()).toThrow(/corrupt record on line 2/);
  });

  it("reset empties the journal", () => {
    const { journal } = open();
    journal.commit({ n: 1 });
    journal.reset();
    journal.commit({ n: 2 });
    journal.close();
    expect(open().seen).toEqual([{ n: 2 }]);
  });

  it("compacts to a snapshot that includes the record just committed", () => {
    // State = the last committed value; its snapshot is that one record.
    const { journal, seen } = open({ snapshot: () => seen.slice(-1), compactAfter: 3 });
    for (let i = 1; i <= 4; i++) journal.commit({ n: i });
    journal.close();
    // Compaction ran at the third record (snapshot {n:3}), then {n:4} was appended.
    expect(open().seen).toEqual([{ n: 3 }, { n: 4 }]);
    expect(existsSync(`${file()}.tmp`)).toBe(false);
  });

  it("is memory-only without a data directory: commit just applies", () => {
    const seen: Rec[] = [];
    const journal = Journal.open<Rec>({ name: "mem" }, (r) => seen.push(r));
    journal.commit({ n: 1 });
    journal.close();
    expect(journal.file).toBeUndefined();
    expect(seen).toEqual([{ n: 1 }]);
  });

  it("applies a committed record only after writing it", () => {
    const { journal } = open();
    const onDisk: string[] = [];
    const probe = Journal.open<Rec>({ dataDir: dir, name: "probe" }, () => {
      onDisk.push(readFileSync(join(dir, "probe.journal.jsonl"), "utf8"));
    });
    probe.commit({ n: 7 });
    probe.close();
    journal.close();
    expect(onDisk).toEqual(['{"n":7}\n']);
  });

  it("tolerates a torn tail appended after the last sync", () => {
    const { journal } = open();
    journal.commit({ n: 1 });
    journal.close();
    appendFileSync(file(), '{"n"');
    expect(open().seen).toEqual([{ n: 1 }]);
  });
});
