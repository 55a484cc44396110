/**
 * zod as every package of ours sees it. `packages/functions` imports zod through here so a bundle
 * holds one copy of it, whatever npm's install layout (today each workspace has its own nested
 * zod 4, because the root holds a zod 3 for a tool: two copies, ~95 KiB, in every handler).
 * `export *`, not `export * as z`: importers use `import * as z`, which esbuild tree-shakes.
 */
export * from "zod";
