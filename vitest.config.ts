import { defineConfig } from "vitest/config";

/**
 * Which tier each test file runs in (the projects below). A test file is a unit test unless a list
 * here names it: the unit project's setup refuses every socket, loopback included, so a file that
 * needs a service and is not listed fails at once with a message saying where it belongs.
 *
 * - integration: services embedded in the test process (dynalite and the local services through
 *   the plane, the MQTT broker, the X-Ray daemon, Lambda workers, child processes serving on
 *   loopback), loopback only.
 * - e2e: the app synthesized from the stacks, and the local cloud booted from it (the browser
 *   test included).
 */
const E2E_TESTS: readonly string[] = [
  "test/e2e/**/*.test.ts",
  "test/stacks/**/*.test.ts",
  // The console page in a real browser (Debian's chromium, driven by playwright-core).
  "packages/local/test/console/console.test.ts",
];

const INTEGRATION_TESTS: readonly string[] = [
  "packages/client/test/client.test.ts",
  "packages/functions/test/api/delete-user.test.ts",
  "packages/functions/test/api/guest-proof-kms.test.ts",
  "packages/functions/test/api/identity-routes.test.ts",
  "packages/functions/test/api/issue-guest-proof.test.ts",
  "packages/functions/test/api/journey.test.ts",
  "packages/functions/test/api/link-identity.test.ts",
  "packages/functions/test/email-claims.test.ts",
  "packages/functions/test/fixtures.test.ts",
  "packages/functions/test/observability.test.ts",
  "packages/functions/test/outbox-relay.test.ts",
  "packages/functions/test/post-confirmation.test.ts",
  "packages/functions/test/pre-sign-up.test.ts",
  "packages/functions/test/pre-token-generation.test.ts",
  "packages/functions/test/tracing.test.ts",
  "packages/local/test/apigateway/cognito-identity.test.ts",
  "packages/local/test/apigateway/http-api.test.ts",
  "packages/local/test/apigateway/throttle.test.ts",
  "packages/local/test/cloud/cli.test.ts",
  "packages/local/test/cloud/kinesis-event-source.test.ts",
  "packages/local/test/cloud/plan-provision.test.ts",
  "packages/local/test/cloud/sqs-event-source.test.ts",
  "packages/local/test/cognito-identity/amplify.test.ts",
  "packages/local/test/cognito-identity/identity-pools.test.ts",
  "packages/local/test/cognito-identity/options.test.ts",
  "packages/local/test/cognito-identity/restart.test.ts",
  "packages/local/test/cognito-idp/expiry.test.ts",
  "packages/local/test/cognito-idp/fidelity.test.ts",
  "packages/local/test/cognito-idp/mfa-clients.test.ts",
  "packages/local/test/cognito-idp/mfa-persistence.test.ts",
  "packages/local/test/cognito-idp/mfa.test.ts",
  "packages/local/test/cognito-idp/persistence.test.ts",
  "packages/local/test/cognito-idp/provision-mfa.test.ts",
  "packages/local/test/cognito-idp/refresh-operation.test.ts",
  "packages/local/test/cognito-idp/sdk.test.ts",
  "packages/local/test/cognito-idp/srp-clients.test.ts",
  "packages/local/test/cognito-idp/triggers.test.ts",
  "packages/local/test/cognito-idp/wire.test.ts",
  "packages/local/test/dynamodb.test.ts",
  "packages/local/test/edge-h2c.test.ts",
  "packages/local/test/edge.test.ts",
  "packages/local/test/iot-data/broker.test.ts",
  "packages/local/test/journey/amplify-journey.test.ts",
  "packages/local/test/kinesis.test.ts",
  "packages/local/test/lambda/environment.test.ts",
  "packages/local/test/lambda/runtime.test.ts",
  "packages/local/test/lambda/sdk.test.ts",
  "packages/local/test/lambda/trace-header.test.ts",
  "packages/local/test/lambda/xray.test.ts",
  "packages/local/test/plane.test.ts",
  "packages/local/test/restart-in-memory.test.ts",
  "packages/local/test/restart.test.ts",
  "packages/local/test/sdk-notices.test.ts",
  "packages/local/test/services/compaction.test.ts",
  "packages/local/test/services/edge-integration.test.ts",
  "packages/local/test/services/iot.test.ts",
  "packages/local/test/services/kinesis-restart.test.ts",
  "packages/local/test/services/kinesis.test.ts",
  "packages/local/test/services/kms.test.ts",
  "packages/local/test/services/restart.test.ts",
  "packages/local/test/services/sns-durability.test.ts",
  "packages/local/test/services/sns-restart.test.ts",
  "packages/local/test/services/sns.test.ts",
  "packages/local/test/services/sqs.test.ts",
  "packages/local/test/services/sts.test.ts",
  "packages/local/test/start-order.test.ts",
  "packages/local/test/xray/daemon.test.ts",
  "test/console/identity-table.test.ts",
  "test/integration/event-publisher.test.ts",
  "test/smoke/dynalite.test.ts",
];

const ALL_TESTS = ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"];
/** The local AWS plane for `inject("localAwsEndpoint")`, started once per project that needs it. */
const GLOBAL_SETUP = ["test/setup/global.ts"];

export default defineConfig({
  test: {
    // Two cores on the reference machine: keep the pool small and predictable.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Handlers under test log through Powertools at INFO by default: that is the functions' output in
    // production, noise here. Tests that read logs set their own level.
    env: { NODE_ENV: "test", AWS_REGION: "us-east-1", POWERTOOLS_LOG_LEVEL: "SILENT" },
    // The tiers (above). `vitest run --project unit` runs one; `vitest run` all three.
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ALL_TESTS,
          exclude: [...INTEGRATION_TESTS, ...E2E_TESTS],
          setupFiles: ["test/setup/unit.ts"],
        },
      },
      {
        extends: true,
        test: { name: "integration", include: [...INTEGRATION_TESTS], globalSetup: GLOBAL_SETUP },
      },
      {
        extends: true,
        test: { name: "e2e", include: [...E2E_TESTS], globalSetup: GLOBAL_SETUP },
      },
    ],
  },
});
