import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    globalSetup: ["test/setup/global.ts"],
    // Two cores on the reference machine: keep the pool small and predictable.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Handlers under test log through Powertools at INFO by default: that is the functions' output in
    // production, noise here. Tests that read logs set their own level.
    env: { NODE_ENV: "test", AWS_REGION: "us-east-1", POWERTOOLS_LOG_LEVEL: "SILENT" },
  },
});
