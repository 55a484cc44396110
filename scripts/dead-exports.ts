/**
 * Dead exports: every symbol exported by a workspace's `src` that no other file of the repository
 * imports (sources, tests, stacks, scripts, bench). An export used only inside its own file should
 * not be exported; one used nowhere should not exist. `test/exports.test.ts` fails on any; run
 * `npx tsx scripts/dead-exports.ts` to print the list.
 *
 * Syntactic, with the TypeScript compiler API (no type checker: a few seconds for the whole repo).
 * A use is an `import`/`export ... from` naming the symbol, a property of a namespace import, a
 * name destructured from (or read off) a dynamic `import()`, `typeof import("...").Name`, or an SST
 * handler string (`"packages/functions/src/api/x.handler"`). Re-exports count through: a name that
 * an index re-exports is used when the index's export is.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export interface DeadExport {
  /** Repository-relative, with forward slashes. */
  file: string;
  name: string;
}

/** The workspaces whose `src` exports are checked. */
export const CHECKED_PACKAGES = [
  "core",
  "contracts",
  "functions",
  "client",
  "local",
  "testing",
] as const;

/**
 * Entry points whose exports are used outside this repository, so count as used: the app-side
 * library's API (apps import its option and result types, and implement `GuestProofStore`), and
 * the local console's plug-in interface (an app's `local-cloud.config.ts` implements its views).
 */
const PUBLIC_ENTRY_POINTS = ["packages/client/src/index.ts", "packages/local/src/console/views.ts"];

const SOURCE = /\.(?:ts|mts|tsx)$/;
const IMPORTER_DIRS = ["packages", "test", "stacks", "scripts", "bench", "types"];
const SKIPPED_DIRS = new Set(["node_modules", ".sst", ".local-cloud", "dist", "cdk.out"]);

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (SKIPPED_DIRS.has(entry) || entry.startsWith(".")) continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (SOURCE.test(entry)) out.push(full);
  }
}

interface PackageExports {
  dir: string;
  exports: Record<string, string>;
}

function workspacePackages(root: string): Map<string, PackageExports> {
  const packages = new Map<string, PackageExports>();
  const base = path.join(root, "packages");
  for (const entry of readdirSync(base)) {
    const manifest = path.join(base, entry, "package.json");
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(readFileSync(manifest, "utf8")) as {
      name: string;
      exports?: Record<string, string> | string;
    };
    const exports = typeof json.exports === "string" ? { ".": json.exports } : (json.exports ?? {});
    packages.set(json.name, { dir: path.join(base, entry), exports });
  }
  return packages;
}

/** What a module exports: its own names, names re-exported from another file, and `export *`. */
interface ModuleExports {
  own: Set<string>;
  reexports: Map<string, { from: string; name: string }>;
  stars: string[];
}

export function findDeadExports(root: string): DeadExport[] {
  const files: string[] = [];
  for (const dir of IMPORTER_DIRS) walk(path.join(root, dir), files);
  for (const entry of readdirSync(root)) {
    if (SOURCE.test(entry)) files.push(path.join(root, entry));
  }
  const known = new Set(files);
  const packages = workspacePackages(root);

  const resolveFile = (base: string): string | undefined => {
    const candidates = [
      base,
      `${base}.ts`,
      `${base}.mts`,
      `${base}.tsx`,
      base.replace(/\.m?js$/, ".ts"),
      path.join(base, "index.ts"),
    ];
    return candidates.find((candidate) => known.has(candidate));
  };
  const resolve = (from: string, specifier: string): string | undefined => {
    if (specifier.startsWith(".")) return resolveFile(path.resolve(path.dirname(from), specifier));
    const match = /^(@[^/]+\/[^/]+|[^@/][^/]*)(\/.*)?$/.exec(specifier);
    const pkg = match && packages.get(match[1] ?? "");
    if (!pkg || !match) return undefined;
    const subpath = `.${match[2] ?? ""}`;
    const exact = pkg.exports[subpath];
    if (exact !== undefined) return resolveFile(path.join(pkg.dir, exact));
    for (const [pattern, target] of Object.entries(pkg.exports)) {
      const star = pattern.indexOf("*");
      if (star < 0) continue;
      const prefix = pattern.slice(0, star);
      const suffix = pattern.slice(star + 1);
      if (subpath.startsWith(prefix) && subpath.endsWith(suffix)) {
        const middle = subpath.slice(prefix.length, subpath.length - suffix.length);
        return resolveFile(path.join(pkg.dir, target.replace("*", middle)));
      }
    }
    return undefined;
  };

  const exportsOf = new Map<string, ModuleExports>();
  /** `${file}\0${name}` used by a file other than `file`, or "*" for every export of the file. */
  const uses: Array<{ file: string; name: string }> = [];

  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const own = new Set<string>();
    const reexports = new Map<string, { from: string; name: string }>();
    const stars: string[] = [];
    exportsOf.set(file, { own, reexports, stars });
    const use = (target: string | undefined, name: string) => {
      if (target !== undefined && target !== file) uses.push({ file: target, name });
    };

    const namespaces = new Map<string, string>();
    const hasExport = (node: ts.Node) =>
      ts.canHaveModifiers(node) &&
      (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    const isDefault = (node: ts.Node) =>
      ts.canHaveModifiers(node) &&
      (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);

    for (const statement of sf.statements) {
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
        const target = resolve(file, statement.moduleSpecifier.text);
        const clause = statement.importClause;
        if (clause?.name) use(target, "default");
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings) && target) {
          namespaces.set(bindings.name.text, target);
        } else if (bindings && ts.isNamedImports(bindings)) {
          for (const element of bindings.elements) {
            use(target, (element.propertyName ?? element.name).text);
          }
        }
      } else if (ts.isExportDeclaration(statement)) {
        const target =
          statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)
            ? resolve(file, statement.moduleSpecifier.text)
            : undefined;
        if (statement.moduleSpecifier && !statement.exportClause) {
          if (target) stars.push(target);
        } else if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
          for (const element of statement.exportClause.elements) {
            const local = (element.propertyName ?? element.name).text;
            if (statement.moduleSpecifier) {
              if (target) reexports.set(element.name.text, { from: target, name: local });
            } else own.add(element.name.text);
          }
        } else if (statement.exportClause && ts.isNamespaceExport(statement.exportClause)) {
          own.add(statement.exportClause.name.text);
          if (target) use(target, "*");
        }
      } else if (ts.isExportAssignment(statement)) {
        own.add("default");
      } else if (hasExport(statement)) {
        if (isDefault(statement)) own.add("default");
        else if (ts.isVariableStatement(statement)) {
          for (const declaration of statement.declarationList.declarations) {
            if (ts.isIdentifier(declaration.name)) own.add(declaration.name.text);
          }
        } else if (
          (ts.isFunctionDeclaration(statement) ||
            ts.isClassDeclaration(statement) ||
            ts.isInterfaceDeclaration(statement) ||
            ts.isTypeAliasDeclaration(statement) ||
            ts.isEnumDeclaration(statement) ||
            ts.isModuleDeclaration(statement)) &&
          statement.name &&
          ts.isIdentifier(statement.name)
        ) {
          own.add(statement.name.text);
        }
      }
    }

    const visit = (node: ts.Node): void => {
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        const literal = node.argument.literal;
        if (ts.isStringLiteral(literal)) {
          const target = resolve(file, literal.text);
          const qualifier = node.qualifier;
          const first = qualifier
            ? ts.isIdentifier(qualifier)
              ? qualifier.text
              : ts.isIdentifier(qualifier.left)
                ? qualifier.left.text
                : "*"
            : "*";
          use(target, first);
        }
      } else if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteral(node.arguments[0])
      ) {
        const target = resolve(file, node.arguments[0].text);
        let outer: ts.Node = node.parent;
        while (ts.isAwaitExpression(outer) || ts.isParenthesizedExpression(outer)) {
          outer = outer.parent;
        }
        if (ts.isVariableDeclaration(outer) && ts.isObjectBindingPattern(outer.name)) {
          for (const element of outer.name.elements) {
            const name = element.propertyName ?? element.name;
            if (ts.isIdentifier(name)) use(target, name.text);
          }
        } else if (ts.isPropertyAccessExpression(outer)) {
          use(target, outer.name.text);
        } else use(target, "*");
      } else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
        // SST handler strings: "packages/functions/src/cognito/pre-sign-up.handler".
        const handler = /^(packages\/[\w./-]+)\.(\w+)$/.exec(node.text);
        if (handler) use(resolveFile(path.join(root, handler[1] ?? "")), handler[2] ?? "");
      } else if (ts.isIdentifier(node) && namespaces.has(node.text)) {
        const target = namespaces.get(node.text);
        const parent = node.parent;
        if (ts.isPropertyAccessExpression(parent) && parent.expression === node) {
          use(target, parent.name.text);
        } else if (ts.isQualifiedName(parent) && parent.left === node) {
          use(target, parent.right.text);
        } else if (!ts.isNamespaceImport(parent)) use(target, "*");
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  // Propagate uses through re-exports and `export *` until nothing changes.
  const used = new Set<string>();
  const key = (file: string, name: string) => `${file}\0${name}`;
  const work = [
    ...uses,
    ...PUBLIC_ENTRY_POINTS.map((entry) => ({ file: path.join(root, entry), name: "*" })),
  ];
  while (work.length > 0) {
    const { file, name } = work.pop() as { file: string; name: string };
    if (used.has(key(file, name))) continue;
    used.add(key(file, name));
    const module = exportsOf.get(file);
    if (!module) continue;
    if (name === "*") {
      for (const own of module.own) work.push({ file, name: own });
      for (const alias of module.reexports.keys()) work.push({ file, name: alias });
      for (const star of module.stars) work.push({ file: star, name: "*" });
      continue;
    }
    const reexport = module.reexports.get(name);
    if (reexport) work.push({ file: reexport.from, name: reexport.name });
    else if (!module.own.has(name))
      for (const star of module.stars) work.push({ file: star, name });
  }
  // A re-export is itself a use of the original by another file.
  for (const [file, module] of exportsOf) {
    for (const { from, name } of module.reexports.values()) {
      if (from !== file) used.add(key(from, name));
    }
  }

  const checkedRoots = CHECKED_PACKAGES.map((name) => path.join(root, "packages", name, "src"));
  const dead: DeadExport[] = [];
  for (const [file, module] of exportsOf) {
    if (!checkedRoots.some((dir) => file.startsWith(`${dir}${path.sep}`))) continue;
    for (const name of [...module.own, ...module.reexports.keys()]) {
      if (!used.has(key(file, name))) {
        dead.push({ file: path.relative(root, file).split(path.sep).join("/"), name });
      }
    }
  }
  return dead.sort((a, b) => a.file.localeCompare(b.file) || a.name.localeCompare(b.name));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const dead = findDeadExports(root);
  for (const { file, name } of dead) console.log(`${file}: ${name}`);
  console.log(`${dead.length} dead export(s)`);
}
