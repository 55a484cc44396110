import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The dependency rules of issues 13 and 14, checked on the source as it is: every import in a
 * workspace's `src` names a package that workspace's package.json declares (or a Node built-in, or
 * a file of its own `src`), and the emulator (`packages/local`) never imports the app it emulates
 * for; no workspace exports a wildcard; no relative import leaves its package (a workspace, or the
 * root with its test/, bench/, scripts/ and stacks/); bench/ and scripts/ import no test folder;
 * comments cite AWS documentation, not a guide outside the repository.
 * Pure: reads files, starts nothing.
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js)$/;
/** The app's packages: the emulator must catch their mistakes, so it may not share their code. */
const APP_PACKAGES = ["@boarding-pass/core", "@boarding-pass/functions"];

interface Manifest {
  name: string;
  exports?: string | Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Workspace {
  /** Absolute path of the workspace folder (where its package.json is). */
  dir: string;
  manifest: Manifest;
  files: { path: string; text: string }[];
}

interface Violation {
  file: string;
  specifier: string;
  rule: "undeclared-package" | "crosses-package-boundary" | "emulator-imports-app";
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Where DefinitelyTyped publishes a package's types: `@types/name`, `@types/scope__name`. */
function typesPackageOf(name: string): string {
  return `@types/${name.startsWith("@") ? name.slice(1).replace("/", "__") : name}`;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || builtinModules.includes(packageNameOf(specifier));
}

/** Every module specifier in a file: static and dynamic imports, re-exports, require calls. */
function specifiersOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

function declaredPackages(manifest: Manifest): Set<string> {
  return new Set(
    [
      manifest.dependencies,
      manifest.devDependencies,
      manifest.peerDependencies,
      manifest.optionalDependencies,
    ].flatMap((deps) => Object.keys(deps ?? {})),
  );
}

function layoutViolations(workspace: Workspace): Violation[] {
  const declared = declaredPackages(workspace.manifest);
  const sourceDir = path.join(workspace.dir, "src");
  const violations: Violation[] = [];
  for (const file of workspace.files) {
    const relativeFile = path.relative(ROOT, file.path);
    for (const specifier of specifiersOf(file.text)) {
      if (specifier.startsWith(".") || path.isAbsolute(specifier)) {
        const target = path.resolve(path.dirname(file.path), specifier);
        if (path.relative(sourceDir, target).startsWith("..")) {
          violations.push({ file: relativeFile, specifier, rule: "crosses-package-boundary" });
        }
        continue;
      }
      if (isBuiltin(specifier)) continue;
      const name = packageNameOf(specifier);
      if (workspace.manifest.name === "@boarding-pass/local" && APP_PACKAGES.includes(name)) {
        violations.push({ file: relativeFile, specifier, rule: "emulator-imports-app" });
      }
      if (!declared.has(name) && !declared.has(typesPackageOf(name))) {
        violations.push({ file: relativeFile, specifier, rule: "undeclared-package" });
      }
    }
  }
  return violations;
}

function filesUnder(dir: string, pattern: RegExp = SOURCE_FILE): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function repositoryWorkspaces(): Workspace[] {
  const packagesDir = path.join(ROOT, "packages");
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = path.join(packagesDir, entry.name);
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Manifest;
      const files = filesUnder(path.join(dir, "src")).map((file) => ({
        path: file,
        text: readFileSync(file, "utf8"),
      }));
      return { dir, manifest, files };
    });
}

function fakeWorkspace(name: string, manifest: Partial<Manifest>, text: string): Workspace {
  const dir = path.join(ROOT, "packages", name);
  return {
    dir,
    manifest: { name: `@boarding-pass/${name}`, ...manifest },
    files: [{ path: path.join(dir, "src", "services", "example.ts"), text }],
  };
}

describe("the checker", () => {
  it("accepts declared packages (and their @types), subpaths, built-ins and own relative files", () => {
    // Prepare
    const workspace = fakeWorkspace(
      "local",
      {
        dependencies: { "@aws-sdk/client-sns": "^3" },
        devDependencies: { "@types/aws-lambda": "^8" },
      },
      [
        'import { SNSClient } from "@aws-sdk/client-sns";',
        'import type { Handler } from "aws-lambda";',
        'import { createHash } from "node:crypto";',
        'import { EventEmitter } from "events";',
        'import { journal } from "../journal";',
        'export { x } from "./example-x";',
        'const later = () => import("./lazy");',
      ].join("\n"),
    );

    // Act
    const violations = layoutViolations(workspace);

    // Assess
    expect(violations).toEqual([]);
  });

  it.each([
    {
      name: "an undeclared package, even type-only or by a subpath",
      text: 'import type { Stack } from "aws-cdk-lib/core";',
      expected: [{ specifier: "aws-cdk-lib/core", rule: "undeclared-package" }],
    },
    {
      name: "a dynamic import of an undeclared package",
      text: 'const sst = await import("sst/constructs");',
      expected: [{ specifier: "sst/constructs", rule: "undeclared-package" }],
    },
    {
      name: "a relative path into another package's src",
      text: 'import { resolveRole } from "../../../core/src/roles";',
      expected: [{ specifier: "../../../core/src/roles", rule: "crosses-package-boundary" }],
    },
    {
      name: "a relative path into the package's own tests",
      text: 'export * from "../../test/harness";',
      expected: [{ specifier: "../../test/harness", rule: "crosses-package-boundary" }],
    },
    {
      name: "the emulator importing the app, even when declared",
      manifest: { dependencies: { "@boarding-pass/core": "0.1.0" } },
      text: 'import { resolveRole } from "@boarding-pass/core/roles";',
      expected: [{ specifier: "@boarding-pass/core/roles", rule: "emulator-imports-app" }],
    },
    {
      name: "the emulator importing the app's handlers",
      text: 'import "@boarding-pass/functions/cognito/pre-sign-up";',
      expected: [
        { specifier: "@boarding-pass/functions/cognito/pre-sign-up", rule: "emulator-imports-app" },
        { specifier: "@boarding-pass/functions/cognito/pre-sign-up", rule: "undeclared-package" },
      ],
    },
  ])("flags $name", ({ text, manifest, expected }) => {
    // Prepare
    const workspace = fakeWorkspace("local", manifest ?? {}, text);

    // Act
    const violations = layoutViolations(workspace);

    // Assess
    expect(violations).toEqual(
      expected.map((violation) => ({
        file: "packages/local/src/services/example.ts",
        ...violation,
      })),
    );
  });

  it("lets an app package use another app package it declares", () => {
    // Prepare
    const workspace = fakeWorkspace(
      "functions",
      { dependencies: { "@boarding-pass/core": "0.1.0" } },
      'import { Profile } from "@boarding-pass/core/profile";',
    );

    // Act
    const violations = layoutViolations(workspace);

    // Assess
    expect(violations).toEqual([]);
  });
});

describe("the repository", () => {
  const workspaces = repositoryWorkspaces();

  it("has the six workspaces, each with source to check", () => {
    expect(workspaces.map((workspace) => workspace.manifest.name).sort()).toEqual([
      "@boarding-pass/client",
      "@boarding-pass/contracts",
      "@boarding-pass/core",
      "@boarding-pass/functions",
      "@boarding-pass/local",
      "@boarding-pass/testing",
    ]);
    for (const workspace of workspaces) expect(workspace.files.length).toBeGreaterThan(0);
  });

  it.each(
    repositoryWorkspaces().map((workspace) => ({ name: workspace.manifest.name, workspace })),
  )("$name: every import in src is declared and stays inside the package", ({ workspace }) => {
    expect(layoutViolations(workspace)).toEqual([]);
  });

  it("the emulator's package.json does not depend on the app", () => {
    const local = workspaces.find(
      (workspace) => workspace.manifest.name === "@boarding-pass/local",
    );
    expect(
      [...declaredPackages(local!.manifest)].filter((name) => APP_PACKAGES.includes(name)),
    ).toEqual([]);
  });
});

/** The folders of the repository that hold code, relative to the root (a workspace's or the root's). */
const CODE_DIRS = ["src", "test", "bench", "scripts", "stacks"];
/** Code files at the root itself (configs the tools load). */
const ROOT_FILE = /^[^/]+\.(?:[cm]?ts|[cm]?js)$/;

/** Every code file of the repository: each workspace's src and test, the root's folders and files. */
function repositoryCodeFiles(): string[] {
  const workspaceDirs = readdirSync(path.join(ROOT, "packages"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(ROOT, "packages", entry.name));
  const dirs = [ROOT, ...workspaceDirs].flatMap((base) =>
    CODE_DIRS.map((dir) => path.join(base, dir)),
  );
  const rootFiles = readdirSync(ROOT).filter((name) => ROOT_FILE.test(name));
  return [
    ...rootFiles.map((name) => path.join(ROOT, name)),
    ...dirs.filter((dir) => existsSync(dir)).flatMap((dir) => filesUnder(dir)),
  ];
}

/** The package a file belongs to: its workspace folder, or the root for everything else. */
function packageDirOf(file: string): string {
  const relativeFile = path.relative(path.join(ROOT, "packages"), file);
  if (relativeFile.startsWith("..") || path.isAbsolute(relativeFile)) return ROOT;
  const [workspace] = relativeFile.split(path.sep);
  return path.join(ROOT, "packages", workspace ?? "");
}

/** Relative imports whose target is in another package than the importing file. */
function packageLeavingImports(file: string, text: string): string[] {
  const own = packageDirOf(file);
  return specifiersOf(text).filter(
    (specifier) =>
      specifier.startsWith(".") &&
      packageDirOf(path.resolve(path.dirname(file), specifier)) !== own,
  );
}

/** Imports that reach a test folder (a workspace's or the root's), by path or by package name. */
function testFolderImports(file: string, text: string): string[] {
  return specifiersOf(text).filter((specifier) => {
    if (!specifier.startsWith(".")) return /^@boarding-pass\/[^/]+\/test\//.test(specifier);
    const target = path.relative(ROOT, path.resolve(path.dirname(file), specifier));
    return /^(?:packages\/[^/]+\/)?test\//.test(target.split(path.sep).join("/"));
  });
}

/** Subpaths of a package.json `exports` that use a pattern (`./*`) instead of naming an entry. */
function wildcardExports(manifest: Manifest): string[] {
  const { exports } = manifest;
  if (exports === undefined || typeof exports === "string") return [];
  return Object.keys(exports).filter((subpath) => subpath.includes("*"));
}

/**
 * Workspaces whose wildcard export another branch of issue 14 replaces (core's namespaces). Listed
 * so this branch stays green; each entry must still have a wildcard, so the list cannot go stale.
 */
/** Spelled in two parts so that this file does not mention it. */
const OUTSIDE_GUIDE = new RegExp(["field", "guide"].join("[- ]"), "i");
const PROSE_FILE = /\.(?:[cm]?ts|[cm]?js|md|json)$/;

describe("the import checks", () => {
  const file = (relativePath: string) => path.join(ROOT, relativePath);

  it("flags a relative import into another workspace or from a workspace to the root", () => {
    // Prepare
    const text = [
      'import { startLocalAws } from "../../packages/local/src/index";',
      'import { assertLoopbackEndpoint } from "../../../../test/setup/loopback";',
      'import { stageConfig } from "../../../../stacks/config";',
      'import { harness } from "./harness";',
    ].join("\n");

    // Act
    const fromRoot = packageLeavingImports(file("test/e2e/example.test.ts"), text);
    const fromWorkspace = packageLeavingImports(
      file("packages/functions/test/support/example.ts"),
      text,
    );

    // Assess
    expect(fromRoot).toEqual(["../../packages/local/src/index"]);
    expect(fromWorkspace).toEqual(["../../../../test/setup/loopback", "../../../../stacks/config"]);
  });

  it("flags an import of a test folder, by path or by package name, and nothing else", () => {
    // Prepare
    const text = [
      'import { journeySteps } from "../test/e2e/journey";',
      'import { startPlane } from "../packages/functions/test/support/plane";',
      'import { srpClient } from "@boarding-pass/local/test/cognito-idp/srp-client";',
      'import { journeySteps as steps } from "@boarding-pass/testing/journey";',
      'import { summarize } from "./stats";',
    ].join("\n");

    // Act
    const imports = testFolderImports(file("bench/example.ts"), text);

    // Assess
    expect(imports).toEqual([
      "../test/e2e/journey",
      "../packages/functions/test/support/plane",
      "@boarding-pass/local/test/cognito-idp/srp-client",
    ]);
  });

  it("finds a wildcard export and accepts named ones", () => {
    expect(
      wildcardExports({ name: "a", exports: { ".": "./src/index.ts", "./*": "./src/*.ts" } }),
    ).toEqual(["./*"]);
    expect(
      wildcardExports({
        name: "b",
        exports: { ".": "./src/index.ts", "./cloud": "./src/cloud/start.ts" },
      }),
    ).toEqual([]);
    expect(wildcardExports({ name: "c" })).toEqual([]);
  });
});

describe("the repository's imports and comments", () => {
  const codeFiles = repositoryCodeFiles().map((file) => ({
    file,
    relativeFile: path.relative(ROOT, file),
    text: readFileSync(file, "utf8"),
  }));

  it("has code to check in every place the rules cover", () => {
    const places = new Set(codeFiles.map(({ relativeFile }) => relativeFile.split(path.sep)[0]));
    for (const place of ["packages", "test", "bench", "scripts", "stacks", "vitest.config.ts"]) {
      expect(places).toContain(place);
    }
  });

  it("no workspace exports a wildcard: every entry point is named", () => {
    const wildcards = repositoryWorkspaces().map((workspace) => ({
      name: workspace.manifest.name,
      wildcards: wildcardExports(workspace.manifest),
    }));
    expect(wildcards.filter(({ wildcards }) => wildcards.length > 0)).toEqual([]);
    // Without an `exports` map every file of a package is importable: a wildcard by omission.
    const unmapped = repositoryWorkspaces()
      .filter((workspace) => typeof workspace.manifest.exports !== "object")
      .map((workspace) => workspace.manifest.name);
    expect(unmapped).toEqual([]);
  });

  it("no relative import leaves its package (src, test, bench, scripts, stacks, root)", () => {
    const leaving = codeFiles.flatMap(({ file, relativeFile, text }) =>
      packageLeavingImports(file, text).map((specifier) => `${relativeFile}: ${specifier}`),
    );
    expect(leaving).toEqual([]);
  });

  it("bench/ and scripts/ import no test folder", () => {
    const reaching = codeFiles
      .filter(({ relativeFile }) =>
        /^(?:bench|scripts)\//.test(relativeFile.split(path.sep).join("/")),
      )
      .flatMap(({ file, relativeFile, text }) =>
        testFolderImports(file, text).map((specifier) => `${relativeFile}: ${specifier}`),
      );
    expect(reaching).toEqual([]);
  });

  it("no source, test or document cites the outside guide (AWS pages instead)", () => {
    const documents = ["README.md", ...filesUnder(path.join(ROOT, "docs"), PROSE_FILE)];
    const files = [
      ...codeFiles.map(({ relativeFile }) => relativeFile),
      ...documents.map((file) => path.relative(ROOT, path.resolve(ROOT, file))),
    ];
    const citing = files.filter((relativeFile) =>
      OUTSIDE_GUIDE.test(readFileSync(path.join(ROOT, relativeFile), "utf8")),
    );
    expect(citing).toEqual([]);
  });

  it("only core's adapters import the AWS SDK; core never reads process.env", () => {
    const appSource = codeFiles.filter(({ relativeFile }) =>
      /^packages\/(?:core|functions|contracts)\/src\//.test(relativeFile.split(path.sep).join("/")),
    );
    expect(appSource.length).toBeGreaterThan(0);
    const sdkOutsideAdapters = appSource
      .filter(
        ({ relativeFile }) =>
          !relativeFile.split(path.sep).join("/").startsWith("packages/core/src/adapters/"),
      )
      .filter(({ text }) =>
        specifiersOf(text).some((specifier) => specifier.startsWith("@aws-sdk/")),
      )
      .map(({ relativeFile }) => relativeFile);
    const coreReadingEnv = appSource
      .filter(({ relativeFile }) =>
        relativeFile.split(path.sep).join("/").startsWith("packages/core/src/"),
      )
      .filter(({ text }) => /\bprocess\.env\b/.test(text))
      .map(({ relativeFile }) => relativeFile);
    expect({ sdkOutsideAdapters, coreReadingEnv }).toEqual({
      sdkOutsideAdapters: [],
      coreReadingEnv: [],
    });
  });
});
