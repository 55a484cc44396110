/**
 * Encoded slashes must not widen IAM grants (issue 12, section 3), end to end against a cloud
 * booted from the stacks: a guest, whose role may invoke `*` + `/GET/identity/preferences`, signs
 * `GET /admin/users/x%2FGET%2Fidentity%2Fpreferences`. Built from the decoded path the resource
 * ARN would end in `/GET/identity/preferences` and the guest's grant would match; built from the
 * raw path it is `.../GET/admin/users/x%2FGET%2Fidentity%2Fpreferences` and the IAM authorizer
 * refuses it, before the admin function runs. The admin, whom IAM does let through, still meets
 * the handler's strict path-parameter check.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import { type AwsCredentials, signedFetch } from "@boarding-pass/client";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import {
  BOOT_TIMEOUT_MS,
  bootCloud,
  journeyOn,
  STEP_TIMEOUT_MS,
} from "@boarding-pass/testing/cloud";
import type { Journey } from "@boarding-pass/testing/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SMUGGLED = "admin/users/x%2FGET%2Fidentity%2Fpreferences";

let cloud: LocalCloud;
let journey: Journey;
let guest: AwsCredentials;

beforeAll(async () => {
  cloud = await bootCloud();
  journey = journeyOn(cloud);
  const identity = new CognitoIdentityClient({
    endpoint: cloud.endpoint,
    region: cloud.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const { IdentityId } = await identity.send(
      new GetIdCommand({ IdentityPoolId: cloud.output("IdentityPoolId") }),
    );
    const { Credentials } = await identity.send(
      new GetCredentialsForIdentityCommand({ IdentityId }),
    );
    guest = {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretKey!,
      sessionToken: Credentials!.SessionToken!,
    };
  } finally {
    identity.destroy();
  }
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  await journey?.close();
  await cloud?.stop();
}, STEP_TIMEOUT_MS);

async function call(method: string, path: string, credentials: AwsCredentials) {
  const response = await signedFetch({
    url: `${cloud.output("ApiUrl").replace(/\/$/, "")}/${path}`,
    method,
    region: cloud.region,
    credentials,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Invocations of the admin route's function (its events name the route key). */
const adminInvocations = () =>
  cloud.runtime
    .invocations()
    .filter((record) => record.event.includes('"routeKey":"GET /admin/users/{sub}"'));

describe("IAM authorization of paths with encoded slashes", () => {
  it(
    "refuses the guest's GET /admin/users/x%2FGET%2Fidentity%2Fpreferences at the authorizer (403)",
    async () => {
      const before = adminInvocations().length;

      const smuggled = await call("GET", SMUGGLED, guest);

      expect(smuggled).toEqual({ status: 403, body: { message: "Forbidden" } });
      expect(adminInvocations().length).toBe(before);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "still lets the guest call what its role grants (GET /identity/preferences: 200)",
    async () => {
      const legitimate = await call("GET", "identity/preferences", guest);

      expect(legitimate.status).toBe(200);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "lets the admin through IAM, where the handler refuses the malformed sub (400 MalformedPath)",
    async () => {
      await journey.adminSignIn();
      const admin = journey.admin.credentials!;

      const smuggled = await call("GET", SMUGGLED, admin);
      const own = await call("GET", `admin/users/${journey.admin.sub}`, admin);

      expect(smuggled).toMatchObject({ status: 400, body: { error: "MalformedPath" } });
      expect(own.status).toBe(200);
    },
    STEP_TIMEOUT_MS,
  );
});
