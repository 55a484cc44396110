/**
 * The synthesized app as the local cloud consumes it: each stack's CloudFormation template and
 * the function bundles it names, kept under `.sst/local/cloud/<stage>/`.
 *
 * Synthesis (SST + CDK + esbuild for every function) takes tens of seconds on a small machine,
 * far over the local cloud's boot budget, so the result is cached and keyed by a fingerprint of
 * everything that feeds it (the config, the stacks, the function and core sources, the lockfile).
 * A changed source synthesizes again; an unchanged tree boots from the cache. Bundles are
 * content-addressed (the asset hash is their S3 key), so they are copied once and never go
 * stale under a key.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { LOCAL_ACCOUNT_ID } from "../types";
import type { CloudFormationTemplate } from "./synth";
import { acquireDirectoryLock } from "./synth-lock";

export interface CloudStack {
  /** `Data`, `Auth`, ... */
  name: string;
  /** `<stage>-<app>-<name>`: the key of `.sst/outputs.json`. */
  stackName: string;
  template: CloudFormationTemplate;
}

export interface CloudAssembly {
  stage: string;
  appName: string;
  region: string;
  /**
   * The account the stacks were synthesized for, which CDK wrote into their ARNs: the local
   * account (000000000000) when loaded here.
   */
  account: string;
  stacks: CloudStack[];
  /** Where the bundle of a function lives, from its `Code.S3Key`; undefined for unknown keys. */
  assetDir(objectKey: string): string | undefined;
  /** Whether this load synthesized (false: served from the cache). */
  synthesized: boolean;
}

interface LoadAssemblyOptions {
  /** The repository root (holds sst.config.ts). */
  root: string;
  stage: string;
  /** Synthesize even when the cache is current. */
  force?: boolean;
  log?: (line: string) => void;
}

interface CacheManifest {
  fingerprint: string;
  stage: string;
  appName: string;
  region: string;
  account: string;
  stacks: { name: string; stackName: string; file: string }[];
  /** Object key → directory name under `assets/`. */
  assets: Record<string, string>;
}

/** Inputs of the synthesis; a change to any of them invalidates the cache. */
const SOURCES = [
  "sst.config.ts",
  "package-lock.json",
  "stacks",
  "packages/core/src",
  "packages/core/package.json",
  "packages/functions/src",
  "packages/functions/package.json",
];

function cacheDirOf(root: string, stage: string): string {
  return path.join(root, ".sst", "local", "cloud", stage);
}

export async function loadCloudAssembly(options: LoadAssemblyOptions): Promise<CloudAssembly> {
  const root = path.resolve(options.root);
  const dir = cacheDirOf(root, options.stage);
  const fingerprint = fingerprintSources(root, options.stage);
  if (!options.force) {
    const cached = readCache(dir, fingerprint);
    if (cached) return cached;
  }
  // Several processes (test files, a second terminal) may miss the cache at once: one fills it,
  // the others find it filled once they hold the lock.
  const release = await acquireDirectoryLock(`${dir}.lock`);
  try {
    if (!options.force) {
      const cached = readCache(dir, fingerprint);
      if (cached) return cached;
    }
    return await synthesizeInto(root, dir, fingerprint, options);
  } finally {
    release();
  }
}

async function synthesizeInto(
  root: string,
  dir: string,
  fingerprint: string,
  options: LoadAssemblyOptions,
): Promise<CloudAssembly> {
  options.log?.(`Synthesizing the ${options.stage} stage (first start or changed sources)...`);
  // Imported lazily: SST and the CDK take seconds to load and are not needed on a cached boot.
  const { synthesizeApp } = await import("./synth");
  const app = await synthesizeApp({ stage: options.stage, root, account: LOCAL_ACCOUNT_ID });
  const manifest: CacheManifest = {
    fingerprint,
    stage: app.stage,
    appName: app.appName,
    region: app.region,
    account: LOCAL_ACCOUNT_ID,
    stacks: [],
    assets: {},
  };
  fs.mkdirSync(path.join(dir, "templates"), { recursive: true });
  fs.mkdirSync(path.join(dir, "assets"), { recursive: true });
  for (const stack of app.stacks) {
    const file = `templates/${stack.name}.json`;
    fs.writeFileSync(path.join(dir, file), `${JSON.stringify(stack.template, null, 2)}\n`);
    manifest.stacks.push({ name: stack.name, stackName: stack.stackName, file });
    for (const [objectKey, source] of Object.entries(stack.assets)) {
      if (!isFunctionAsset(stack.template, objectKey)) continue;
      const name = objectKey.replace(/\.zip$/, "");
      const target = path.join(dir, "assets", name);
      if (!fs.existsSync(target)) copyDirectoryAtomically(source, target);
      manifest.assets[objectKey] = name;
    }
  }
  // The manifest goes last and atomically: a crash mid-copy leaves the previous cache (or none).
  writeFileAtomically(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  pruneAssets(path.join(dir, "assets"), new Set(Object.values(manifest.assets)));
  const loaded = readCache(dir, fingerprint);
  if (!loaded) throw new Error(`The synthesized app could not be read back from ${dir}`);
  return { ...loaded, synthesized: true };
}

function readCache(dir: string, fingerprint: string): CloudAssembly | undefined {
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
  } catch {
    return undefined;
  }
  if (manifest.fingerprint !== fingerprint) return undefined;
  const assetDirs = Object.fromEntries(
    Object.entries(manifest.assets).map(([key, name]) => [key, path.join(dir, "assets", name)]),
  );
  if (Object.values(assetDirs).some((assetDir) => !fs.existsSync(assetDir))) return undefined;
  return {
    stage: manifest.stage,
    appName: manifest.appName,
    region: manifest.region,
    account: manifest.account,
    stacks: manifest.stacks.map((stack) => ({
      name: stack.name,
      stackName: stack.stackName,
      template: JSON.parse(fs.readFileSync(path.join(dir, stack.file), "utf8")),
    })),
    assetDir: (objectKey) => assetDirs[objectKey],
    synthesized: false,
  };
}

/** Only bundles of `AWS::Lambda::Function`s are needed (not the CDK's own custom resources). */
function isFunctionAsset(template: CloudFormationTemplate, objectKey: string): boolean {
  return Object.values(template.Resources).some((resource) => {
    if (resource.Type !== "AWS::Lambda::Function") return false;
    const code = (resource.Properties?.Code ?? {}) as { S3Key?: unknown };
    const handler = resource.Properties?.Handler;
    // SST bundles name their handler by its source path; CDK's provider frameworks use index.*.
    return code.S3Key === objectKey && typeof handler === "string" && handler.includes("/");
  });
}

/** SHA-256 over the paths and contents of every source file (sorted, so stable). */
export function fingerprintSources(root: string, stage: string): string {
  // The account is an input too: a cache synthesized for another one must not be served.
  const hash = createHash("sha256").update(`stage:${stage}\naccount:${LOCAL_ACCOUNT_ID}\n`);
  const files: string[] = [];
  for (const source of SOURCES) collectFiles(path.join(root, source), files);
  files.sort();
  for (const file of files) {
    hash.update(`${path.relative(root, file)}\n`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest("hex");
}

function collectFiles(entry: string, into: string[]): void {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isFile()) {
    into.push(entry);
    return;
  }
  if (!stat.isDirectory()) return;
  for (const child of fs.readdirSync(entry)) {
    if (child === "node_modules" || child.startsWith(".")) continue;
    collectFiles(path.join(entry, child), into);
  }
}

/**
 * Every changed source leaves a new set of bundles (content-addressed, about 10 MB a set): those
 * the current manifest does not name are removed once a day old. A local cloud still running an
 * older build starts its new execution environments from these, hence the grace period.
 */
export function pruneAssets(
  assetsDir: string,
  keep: ReadonlySet<string>,
  olderThanMs = ASSET_GRACE_MS,
  now = Date.now(),
): string[] {
  const removed: string[] = [];
  for (const name of fs.readdirSync(assetsDir)) {
    if (keep.has(name)) continue;
    const entry = path.join(assetsDir, name);
    const stat = fs.statSync(entry, { throwIfNoEntry: false });
    if (!stat || now - stat.mtimeMs < olderThanMs) continue;
    fs.rmSync(entry, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

const ASSET_GRACE_MS = 24 * 3600 * 1000;

function copyDirectoryAtomically(source: string, target: string): void {
  const staging = `${target}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.cpSync(source, staging, { recursive: true });
  fs.renameSync(staging, target);
}

function writeFileAtomically(file: string, content: string): void {
  const staging = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(staging, content);
  fs.renameSync(staging, file);
}
