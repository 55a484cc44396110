/**
 * zod as every package of ours sees it: `zod/mini`, zod 4's functional API (the same schemas,
 * parser and issues as `zod`, without its method-chaining classes: ~63 KiB less in every trigger's
 * cold start, and less work building the core's schemas at module load). All our code imports zod
 * through here, so a bundle holds one copy of it whatever npm's install layout (each workspace has
 * its own nested zod 4, because the root holds a zod 3 for a tool), and so the two defaults `zod`
 * sets by itself and `zod/mini` does not are in place before any schema is built: English issue
 * messages (what the errors we throw and log say) and the memoizer (cycle support in recursive
 * schemas). `export *`, not `export * as z`: importers use `import * as z`, which esbuild
 * tree-shakes.
 */
import { en } from "zod/locales";
import { config, memoizer } from "zod/mini";

// As `zod` does it: only where nothing set them already (a locale chosen elsewhere wins).
if (!config().localeError) config(en());
if (!config().memoizer) config({ memoizer: memoizer() });

export * from "zod/mini";
