/**
 * The Boarding Pass journey, step by step, with unmodified clients against a running local cloud:
 * shared by the end-to-end test (test/e2e/local-cloud.test.ts, which asserts on what each step
 * returns) and `npm run demo` (scripts/demo.ts, which narrates it).
 *
 * Each step checks what must hold for the journey to go on and throws a `JourneyError` saying
 * what went wrong otherwise; it returns the facts it observed (ids, claims, statuses, never
 * tokens) and one plain sentence about them. Waits are bounded by `waitMs`.
 *
 * What the cloud itself saw (the emailed code, which functions ran) comes from a `CloudProbe`:
 * in-process in the test, the local control API (`/_local/...`) in the demo.
 */

import { Sha256 } from "@aws-crypto/sha256-js";
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminAddUserToGroupCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  SignUpCommand,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IoTClient, ListAttachedPoliciesCommand } from "@aws-sdk/client-iot";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  type AwsCredentials,
  backendGuestProofSource,
  deleteAccount,
  GuestLinkClient,
  type LinkReport,
  signedFetch,
} from "@boarding-pass/client";
import { DynamoProfileStore } from "@boarding-pass/core/adapters/dynamodb";
import type { Profile } from "@boarding-pass/core/profile";
import { SIGN_UP_DENIED_MESSAGE } from "@boarding-pass/core/sign-up";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";
import { Amplify } from "aws-amplify";
import { confirmSignUp, fetchAuthSession, signIn, signOut, signUp } from "aws-amplify/auth";
import { JwtRsaVerifier } from "aws-jwt-verify";
import mqtt, { type MqttClient } from "mqtt";

/** Where the local cloud runs and what its stacks output. */
export interface JourneyTarget {
  region: string;
  /** The edge endpoint (every AWS service). */
  endpoint: string;
  /** The HTTP API's base URL (`ApiUrl`). */
  apiUrl: string;
  /** `ws://127.0.0.1:<port>/mqtt`. */
  mqttUrl: string;
  userPoolId: string;
  userPoolClientId: string;
  identityPoolId: string;
  tableName: string;
  iotTopicRoot: string;
  probe: CloudProbe;
}

/** One finished function invocation, as the local Lambda runtime recorded it. */
export interface ObservedInvocation {
  functionName: string;
  /** What invoked it: `sqs`, `kinesis`, `cognito-idp`, `apigw`, ... */
  source: string;
  ok: boolean;
  /** The event, as bounded JSON. */
  event: string;
}

/** An X-Ray trace as the local cloud's console shows it: function segments and their AWS calls. */
export interface ObservedTrace {
  traceId: string;
  segments: {
    name: string;
    durationMs?: number;
    subsegments: { name: string; operation?: string; durationMs?: number }[];
  }[];
}

/** What the local cloud saw, beyond what clients are told. */
export interface CloudProbe {
  /** The codes the user pool "emailed" to this address, oldest first. */
  confirmationCodes(email: string): Promise<string[]>;
  /** Recent function invocations, most recent first. */
  invocations(): Promise<ObservedInvocation[]>;
  /** Recent X-Ray traces of the functions with active tracing, most recently active first. */
  traces(): Promise<ObservedTrace[]>;
}

export class JourneyError extends Error {
  override name = "JourneyError";
}

export interface JourneyOptions {
  /** Bound of every wait for something asynchronous (event delivery, MQTT); default 30 s. */
  waitMs?: number;
  /** Suffix of the users' emails; random by default so a journey never meets an earlier one. */
  runId?: string;
}

/** A step's outcome: a sentence for people and the observed facts for assertions. */
interface StepResult {
  say: string;
}

const PASSWORD = "Corr3ct-Horse-Battery!";
const ANY_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
const CONFIRMED_TYPE = "boardingpass.user.confirmed.v1";

/** `us-east-1:0a1b2c3d-...` → `us-east-1:0a1b2c3d…`: enough to tell ids apart, not to copy. */
const short = (id: string | undefined): string => {
  if (id === undefined) return "(none)";
  const colon = id.indexOf(":");
  const head = colon === -1 ? "" : id.slice(0, colon + 1);
  const tail = colon === -1 ? id : id.slice(colon + 1);
  return tail.length > 10 ? `${head}${tail.slice(0, 8)}…` : id;
};

/** The role name in an STS assumed-role ARN (`arn:aws:sts::<acct>:assumed-role/<name>/<session>`). */
const roleNameOf = (arn: string | undefined): string =>
  /:assumed-role\/([^/]+)\//.exec(arn ?? "")?.[1] ?? String(arn);

/** The app role (`guest`, `member`, `admin`) of a role named `<stage>-boarding-pass-<role>-<region>`. */
const appRoleOf = (roleName: string): string =>
  /-boarding-pass-([a-z]+)-[a-z0-9-]+$/.exec(roleName)?.[1] ?? roleName;

export class Journey {
  private readonly waitMs: number;
  private readonly runId: string;
  private readonly clientConfig: { endpoint: string; region: string; credentials: AwsCredentials };
  private readonly identity: CognitoIdentityClient;
  private readonly idp: CognitoIdentityProviderClient;
  private readonly dynamo: DynamoDBDocumentClient;
  private readonly mqttClients = new Set<MqttClient>();

  /** Device 1: Amplify (guest first, then signed in). */
  private readonly device1Links: GuestLinkClient;
  /** Device 2: the AWS SDK and amazon-cognito-identity-js. */
  private readonly device2Links: GuestLinkClient;
  private device2Credentials: AwsCredentials | undefined;

  readonly member = {
    email: "",
    sub: "",
    identityId: "",
    credentials: undefined as AwsCredentials | undefined,
  };
  readonly admin = {
    email: "",
    sub: "",
    identityId: "",
    credentials: undefined as AwsCredentials | undefined,
  };
  guestIdentityId = "";
  secondGuestIdentityId = "";
  private guestCredentials: AwsCredentials | undefined;

  constructor(
    readonly target: JourneyTarget,
    options: JourneyOptions = {},
  ) {
    this.waitMs = options.waitMs ?? 30_000;
    this.runId = options.runId ?? crypto.randomUUID().slice(0, 8);
    this.clientConfig = {
      endpoint: target.endpoint,
      region: target.region,
      credentials: ANY_CREDENTIALS,
    };
    this.identity = new CognitoIdentityClient(this.clientConfig);
    this.idp = new CognitoIdentityProviderClient(this.clientConfig);
    this.dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(this.clientConfig));
    const proofs = (credentials: () => AwsCredentials | undefined) =>
      backendGuestProofSource({
        apiUrl: target.apiUrl,
        region: target.region,
        credentials: async () => {
          const current = credentials();
          if (!current) throw new JourneyError("No guest credentials yet");
          return current;
        },
      });
    this.device1Links = new GuestLinkClient({
      apiUrl: target.apiUrl,
      region: target.region,
      proofs: proofs(() => this.guestCredentials),
    });
    this.device2Links = new GuestLinkClient({
      apiUrl: target.apiUrl,
      region: target.region,
      proofs: proofs(() => this.device2Credentials),
    });
    this.member.email = `traveller-${this.runId}@example.com`;
    this.admin.email = `operator-${this.runId}@example.com`;
    Amplify.configure({
      Auth: {
        Cognito: {
          userPoolId: target.userPoolId,
          userPoolClientId: target.userPoolClientId,
          userPoolEndpoint: target.endpoint,
          identityPoolId: target.identityPoolId,
          identityPoolEndpoint: target.endpoint,
          allowGuestAccess: true,
        },
      },
    });
  }

  // ------------------------------------------------------------------------------------ guest

  /** Device 1 opens the app: Amplify gets a guest identity and credentials for the guest role. */
  async guestIdentity() {
    await signOut().catch(() => undefined);
    const session = await fetchAuthSession();
    if (!session.identityId || !session.credentials) {
      throw new JourneyError("Amplify returned no guest identity or credentials");
    }
    this.guestIdentityId = session.identityId;
    this.guestCredentials = session.credentials;
    const role = await this.roleOf(session.credentials);
    return {
      identityId: session.identityId,
      signedIn: session.tokens !== undefined,
      role,
      say:
        `A guest opens the app: Amplify got identity ${short(session.identityId)} and ` +
        `temporary credentials for the ${appRoleOf(role)} role (${role}).`,
    };
  }

  /** The guest saves preferences: `PUT /identity/preferences`, SigV4-signed with its credentials. */
  async guestData() {
    const put = await this.callApi("PUT", "identity/preferences", this.guestCredentials, {
      preferences: { theme: "dark" },
    });
    this.expectStatus(put, 200, "PUT /identity/preferences as the guest");
    const read = await this.callApi("GET", "identity/preferences", this.guestCredentials);
    this.expectStatus(read, 200, "GET /identity/preferences as the guest");
    return {
      status: put.status,
      preferences: (read.body as { preferences?: unknown }).preferences,
      say:
        `The guest saves {"theme":"dark"} with PUT /identity/preferences (signed with its ` +
        `guest credentials): ${put.status}, and reads it back.`,
    };
  }

  /** Right before sign-in, the app keeps a 10-minute guest proof (`POST /identity/guest-proof`). */
  async guestProof() {
    await this.device1Links.beforeSignIn(this.guestIdentityId);
    return {
      say: `The app keeps a short-lived guest proof for ${short(this.guestIdentityId)} (POST /identity/guest-proof).`,
    };
  }

  // ---------------------------------------------------------------------------------- sign-up

  /** A sign-up from a denied domain is refused by the pre sign-up trigger, with the policy's words. */
  async signUpDenied() {
    const email = `traveller-${this.runId}@blocked.example`;
    try {
      await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!message.includes(SIGN_UP_DENIED_MESSAGE)) {
        throw new JourneyError(`The denied sign-up failed for another reason: ${message}`);
      }
      return {
        name: (error as Error).name,
        message,
        say: `Sign-up as ${email} is refused by the sign-up policy: "${message}"`,
      };
    }
    throw new JourneyError(`Sign-up as ${email} was accepted; the policy denies blocked.example`);
  }

  /** An allowed domain passes: Cognito asks for the emailed code. */
  async signUpAllowed() {
    const result = await signUp({
      username: this.member.email,
      password: PASSWORD,
      options: { userAttributes: { email: this.member.email } },
    });
    if (!result.userId) throw new JourneyError("Sign-up returned no user id");
    this.member.sub = result.userId;
    return {
      sub: result.userId,
      nextStep: result.nextStep.signUpStep,
      say:
        `Sign-up as ${this.member.email} passes the policy: user ${short(result.userId)}, ` +
        `next step ${result.nextStep.signUpStep}.`,
    };
  }

  /** Confirms with the code the local pool "emailed"; post confirmation creates the profile. */
  async confirm() {
    const code = await this.waitFor("the confirmation code", async () => {
      const codes = await this.target.probe.confirmationCodes(this.member.email);
      return codes.at(-1);
    });
    const result = await confirmSignUp({ username: this.member.email, confirmationCode: code });
    const profile = await this.waitFor("the profile in DynamoDB", () =>
      this.profileOf(this.member.sub),
    );
    return {
      complete: result.isSignUpComplete,
      profile,
      say:
        `The code from the pool's outbox confirms the account; post confirmation wrote the ` +
        `profile (tenant ${profile.tenant}, plan ${profile.plan}, roles ${profile.roles.join(", ")}).`,
    };
  }

  /** The `user.confirmed` event reached the welcome consumer (SNS → SQS → Lambda) and the audit consumer (Kinesis → Lambda). */
  async confirmationEvents() {
    const sub = this.member.sub;
    // The welcome consumer is the SQS queue's function; the audit consumer the stream's.
    const delivered = (source: string, what: string, matches: (event: string) => boolean) =>
      this.waitFor(`the ${what} for ${short(sub)}`, async () =>
        (await this.target.probe.invocations()).find(
          (invocation) =>
            invocation.source === source && invocation.ok && matches(invocation.event),
        ),
      );
    const welcome = await delivered(
      "sqs",
      "welcome consumer's invocation",
      (event) => event.includes(sub) && event.includes(CONFIRMED_TYPE),
    );
    const audit = await delivered("kinesis", "audit consumer's invocation", (event) =>
      event.includes(`"partitionKey":"${sub}"`),
    );
    return {
      welcome,
      audit,
      say:
        `The ${CONFIRMED_TYPE} event went out: the welcome consumer (SNS → SQS → Lambda) and ` +
        `the audit consumer (Kinesis → Lambda) each processed it.`,
    };
  }

  // ---------------------------------------------------------------------------------- sign-in

  /** Device 2 signs in with SRP through amazon-cognito-identity-js; the ID token verifies. */
  async srpSignInWithCognitoIdentityJs() {
    const session = await this.cognitoSrp(this.member.email);
    const idToken = session.getIdToken().getJwtToken();
    const claims = await this.verifyIdToken(idToken);
    return {
      claims,
      say:
        `Device 2 signs in with SRP (amazon-cognito-identity-js); the ID token verifies with ` +
        `aws-jwt-verify and carries tenant=${claims.tenant}, plan=${claims.plan}, ` +
        `app_roles=${claims.app_roles}, preferred role ${String(claims["cognito:preferred_role"]).split("/").pop()}.`,
    };
  }

  /**
   * The sign-in's pre token trigger as X-Ray saw it: the trace of its invocation for this user,
   * with the AWS calls it made (the profile read).
   */
  async signInTrace() {
    const sub = this.member.sub;
    const found = await this.waitFor(
      `the trace of ${short(sub)}'s pre token generation`,
      async () => {
        const invocation = (await this.target.probe.invocations()).find(
          (seen) =>
            seen.source === "cognito-idp" &&
            seen.event.includes("TokenGeneration_") &&
            seen.event.includes(sub),
        );
        if (invocation === undefined) return undefined;
        for (const trace of await this.target.probe.traces()) {
          // The profile read (GetItem): the trigger's other calls (the email claims' Query) run
          // beside it, and each subsegment reaches the daemon in its own datagram.
          const segment = trace.segments.find(
            (candidate) =>
              candidate.name === invocation.functionName &&
              candidate.subsegments.some(
                (call) => call.name === "DynamoDB" && call.operation === "GetItem",
              ),
          );
          if (segment !== undefined) return { trace, segment };
        }
        return undefined;
      },
    );
    const calls = found.segment.subsegments.map(
      (call) =>
        `${call.name} ${call.operation ?? "?"}${call.durationMs !== undefined ? ` ${call.durationMs.toFixed(1)} ms` : ""}`,
    );
    return {
      traceId: found.trace.traceId,
      functionName: found.segment.name,
      calls: found.segment.subsegments,
      say:
        `X-Ray traced the sign-in's pre token trigger (${found.segment.durationMs?.toFixed(1) ?? "?"} ms): ` +
        `${calls.join(", ")}. The console shows it under Traces.`,
    };
  }

  /** Device 1 signs in with SRP through Amplify; the identity pool hands out the profile's role. */
  async srpSignInWithAmplify() {
    const result = await signIn({ username: this.member.email, password: PASSWORD });
    if (!result.isSignedIn) {
      throw new JourneyError(`Amplify sign-in stopped at ${result.nextStep.signInStep}`);
    }
    const session = await fetchAuthSession({ forceRefresh: true });
    if (!session.identityId || !session.credentials || !session.tokens?.idToken) {
      throw new JourneyError("Amplify returned no identity, credentials or tokens after sign-in");
    }
    const claims = await this.verifyIdToken(session.tokens.idToken.toString());
    this.member.identityId = session.identityId;
    this.member.credentials = session.credentials;
    const role = await this.roleOf(session.credentials);
    return {
      identityId: session.identityId,
      sameIdentityAsGuest: session.identityId === this.guestIdentityId,
      claims,
      role,
      say:
        `Device 1 signs in with SRP (Amplify v6): identity ${short(session.identityId)} ` +
        `(${session.identityId === this.guestIdentityId ? "the guest's, now authenticated" : "a different one"}), ` +
        `credentials for the ${appRoleOf(role)} role through Token role mapping.`,
    };
  }

  /** Device 1's app tells the backend: `POST /identity/link` with the guest proof. */
  async linkGuest() {
    const report = await this.device1Links.afterSignIn({
      identityId: this.member.identityId,
      credentials: this.member.credentials!,
    });
    if (report.outcome !== "linked" && report.outcome !== "merged") {
      throw new JourneyError(`The guest was not linked: ${report.outcome}`);
    }
    return { report, say: this.describeLink(report) };
  }

  /**
   * Device 2 was a guest with its own data; it signs in as the same user, Cognito merges its guest
   * identity into the user's, and the app makes the backend follow (`POST /identity/link`).
   */
  async mergeSecondDevice() {
    const { IdentityId: guestId } = await this.identity.send(
      new GetIdCommand({ IdentityPoolId: this.target.identityPoolId }),
    );
    if (!guestId) throw new JourneyError("GetId returned no identity");
    this.secondGuestIdentityId = guestId;
    const guest = await this.credentialsFor(guestId);
    this.device2Credentials = guest.credentials;
    const put = await this.callApi("PUT", "identity/preferences", guest.credentials, {
      preferences: { lang: "fr" },
    });
    this.expectStatus(put, 200, "PUT /identity/preferences as the second guest");
    await this.device2Links.beforeSignIn(guestId);

    const session = await this.cognitoSrp(this.member.email);
    const signedIn = await this.credentialsFor(guestId, session.getIdToken().getJwtToken());
    const report = await this.device2Links.afterSignIn({
      identityId: signedIn.identityId,
      credentials: signedIn.credentials,
    });
    const read = await this.callApi("GET", "identity/preferences", signedIn.credentials);
    this.expectStatus(read, 200, "GET /identity/preferences after the merge");
    return {
      guestIdentityId: guestId,
      identityId: signedIn.identityId,
      report,
      preferences: (read.body as { preferences?: unknown }).preferences,
      say:
        `Device 2, a guest ${short(guestId)} with {"lang":"fr"}, signs in as the same user: ` +
        `Cognito returns ${short(signedIn.identityId)}. ${this.describeLink(report)} ` +
        `Preferences now: ${JSON.stringify((read.body as { preferences?: unknown }).preferences)}.`,
    };
  }

  // -------------------------------------------------------------------------------------- IoT

  /** `POST /identity/iot`: the backend attaches the per-identity IoT policy. */
  async attachIot() {
    const response = await this.callApi("POST", "identity/iot", this.member.credentials);
    this.expectStatus(response, 200, "POST /identity/iot");
    return {
      body: response.body,
      say: `POST /identity/iot attaches the IoT policy to ${short(this.member.identityId)}: ${response.status}.`,
    };
  }

  /** MQTT over the presigned URL: the identity's own topic works, another identity's is refused. */
  async mqttPublish() {
    const id = this.member.identityId;
    const ownTopic = `${this.target.iotTopicRoot}/${id}/status`;
    const { IdentityId: otherId } = await this.identity.send(
      new GetIdCommand({ IdentityPoolId: this.target.identityPoolId }),
    );
    const othersTopic = `${this.target.iotTopicRoot}/${otherId}/status`;

    const client = await this.connectMqtt(this.member.credentials!, id);
    const granted = await client.subscribeAsync(ownTopic, { qos: 1 });
    if (granted[0]?.qos !== 1) {
      throw new JourneyError(`Subscribing to ${ownTopic} was refused (granted ${granted[0]?.qos})`);
    }
    const received = this.bounded(
      `the echo on ${ownTopic}`,
      new Promise<string>((resolve) => {
        client.on("message", (topic, payload) => {
          if (topic === ownTopic) resolve(payload.toString("utf8"));
        });
      }),
    );
    await client.publishAsync(ownTopic, JSON.stringify({ battery: 87 }), { qos: 1 });
    const echo = await received;

    // MQTT 3.1.1 has no negative PUBACK: AWS IoT (and the local broker) disconnect the client.
    const closed = this.bounded(
      "the disconnection after publishing to another identity's topic",
      new Promise<void>((resolve) => client.once("close", () => resolve())),
    );
    client.publish(othersTopic, JSON.stringify({ battery: 0 }), { qos: 0 });
    await closed;
    client.end(true);
    this.mqttClients.delete(client);
    return {
      ownTopic,
      othersTopic,
      echo,
      disconnected: true,
      say:
        `Over MQTT (WebSocket, SigV4-presigned) the client publishes on its own topic ` +
        `${this.target.iotTopicRoot}/${short(id)}/status and receives it back; publishing on ` +
        `${short(otherId)}'s topic gets it disconnected.`,
    };
  }

  // -------------------------------------------------------------------------------- JWT route

  /** `GET /profile` with the user's access token (the user pool's JWT authorizer). */
  async profileRoute() {
    const session = await fetchAuthSession();
    const token = session.tokens?.accessToken?.toString();
    if (!token) throw new JourneyError("Amplify has no access token");
    const unauthenticated = await fetch(new URL("profile", withSlash(this.target.apiUrl)));
    await unauthenticated.body?.cancel();
    const response = await fetch(new URL("profile", withSlash(this.target.apiUrl)), {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json().catch(() => ({}))) as { profile?: Profile };
    if (response.status !== 200 || unauthenticated.status !== 401) {
      throw new JourneyError(
        `GET /profile answered ${response.status} with the token and ${unauthenticated.status} ` +
          `without (expected 200 and 401): ${JSON.stringify(body)}`,
      );
    }
    return {
      withoutToken: unauthenticated.status,
      status: response.status,
      profile: body.profile,
      say:
        `GET /profile without a token: ${unauthenticated.status}; with the access token: ` +
        `${response.status}, the profile of ${short(body.profile?.sub)}.`,
    };
  }

  // ------------------------------------------------------------------------------------ admin

  /**
   * An operator account: signed up and confirmed (member role), then added to the `admin` group
   * (AdminAddUserToGroup, an admin API) and signed in again: the pre token trigger grants the
   * catalog role named like the group, so the identity pool hands out the admin role
   * (packages/core/src/token-claims/claims.ts; the group's own RoleArn is never used).
   */
  async adminSignIn() {
    const email = this.admin.email;
    const { UserSub } = await this.idp.send(
      new SignUpCommand({
        ClientId: this.target.userPoolClientId,
        Username: email,
        Password: PASSWORD,
        UserAttributes: [{ Name: "email", Value: email }],
      }),
    );
    if (!UserSub) throw new JourneyError("SignUp returned no sub");
    this.admin.sub = UserSub;
    const code = await this.waitFor("the operator's confirmation code", async () =>
      (await this.target.probe.confirmationCodes(email)).at(-1),
    );
    await this.idp.send(
      new ConfirmSignUpCommand({
        ClientId: this.target.userPoolClientId,
        Username: email,
        ConfirmationCode: code,
      }),
    );
    await this.waitFor("the operator's profile", () => this.profileOf(UserSub));
    const before = await this.signInWithSdk(email);
    await this.idp.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: this.target.userPoolId,
        Username: email,
        GroupName: "admin",
      }),
    );
    const promoted = await this.signInWithSdk(email);
    this.admin.identityId = promoted.identityId;
    this.admin.credentials = promoted.credentials;
    return {
      sub: UserSub,
      before: { claims: before.claims, role: before.role },
      claims: promoted.claims,
      role: promoted.role,
      say:
        `An operator ${short(UserSub)} signs up and is confirmed: ${appRoleOf(before.role)} role. ` +
        `Added to the admin group (AdminAddUserToGroup), the next sign-in shows groups ` +
        `${JSON.stringify(promoted.claims["cognito:groups"])} and gets the ` +
        `${appRoleOf(promoted.role)} role.`,
    };
  }

  /** SRP sign-in (amazon-cognito-identity-js), then credentials from the identity pool (SDK). */
  private async signInWithSdk(email: string) {
    const session = await this.cognitoSrp(email);
    const idToken = session.getIdToken().getJwtToken();
    const claims = await this.verifyIdToken(idToken);
    const { IdentityId } = await this.identity.send(
      new GetIdCommand({
        IdentityPoolId: this.target.identityPoolId,
        Logins: this.logins(idToken),
      }),
    );
    if (!IdentityId) throw new JourneyError("GetId returned no identity");
    const signedIn = await this.credentialsFor(IdentityId, idToken);
    return { ...signedIn, claims, role: await this.roleOf(signedIn.credentials) };
  }

  /** `GET /admin/users/{sub}`: allowed for the admin role, 403 for the member. */
  async adminRoute() {
    const path = `admin/users/${this.member.sub}`;
    const asAdmin = await this.callApi("GET", path, this.admin.credentials);
    const asMember = await this.callApi("GET", path, this.member.credentials);
    if (asAdmin.status !== 200 || asMember.status !== 403) {
      throw new JourneyError(
        `GET /${path} answered ${asAdmin.status} to the admin and ${asMember.status} to the ` +
          `member (expected 200 and 403): ${JSON.stringify(asAdmin.body)}`,
      );
    }
    return {
      adminStatus: asAdmin.status,
      adminBody: asAdmin.body as { sub?: string; profile?: Profile; identities?: unknown[] },
      memberStatus: asMember.status,
      memberBody: asMember.body,
      say:
        `GET /admin/users/${short(this.member.sub)}: ${asAdmin.status} for the operator, ` +
        `${asMember.status} for the traveller.`,
    };
  }

  // ---------------------------------------------------------------------------------- deletion

  /**
   * The traveller deletes their account through the backend (`DELETE /identity/me` with the
   * access token, packages/client `deleteAccount`; ADR 0007): the IoT policy comes off their
   * identity, the user leaves the pool, the admin route no longer finds them, and a retry is a
   * harmless no-op.
   */
  async deleteAccount() {
    const session = await fetchAuthSession();
    const accessToken = session.tokens?.accessToken?.toString();
    if (!accessToken) throw new JourneyError("Amplify has no access token");
    const identityId = this.member.identityId;
    if (!identityId) throw new JourneyError("The traveller has no identity yet");
    const deleted = await deleteAccount({ apiUrl: this.target.apiUrl, accessToken });
    const retried = await deleteAccount({ apiUrl: this.target.apiUrl, accessToken });

    const iot = new IoTClient(this.clientConfig);
    const { policies } = await iot
      .send(new ListAttachedPoliciesCommand({ target: identityId }))
      .finally(() => iot.destroy());
    const inPool = await this.idp
      .send(
        new AdminGetUserCommand({
          UserPoolId: this.target.userPoolId,
          Username: this.member.email,
        }),
      )
      .then(() => true)
      .catch((error: unknown) => {
        if (error instanceof UserNotFoundException) return false;
        throw error;
      });
    const adminView = await this.callApi(
      "GET",
      `admin/users/${this.member.sub}`,
      this.admin.credentials,
    );
    if (inPool || (policies ?? []).length > 0 || retried.outcome !== "already-deleted") {
      throw new JourneyError(
        `After DELETE /identity/me the user is ${inPool ? "still" : "not"} in the pool, ` +
          `${(policies ?? []).length} IoT policies remain, and a retry said ${retried.outcome}`,
      );
    }
    return {
      deleted,
      retried,
      attachedPolicies: (policies ?? []).map((policy) => policy.policyName),
      inPool,
      adminStatus: adminView.status,
      adminBody: adminView.body as { profile?: unknown; identities?: unknown[] },
      say:
        `The traveller deletes their account (DELETE /identity/me with the access token): ` +
        `${deleted.released.length} identity released, its IoT policy detached, the user gone ` +
        `from the pool, no profile left for the admin route to show; a retry says ` +
        `${retried.outcome}.`,
    };
  }

  /** Signs out and closes every client. */
  async close(): Promise<void> {
    for (const client of this.mqttClients) client.end(true);
    this.mqttClients.clear();
    await signOut().catch(() => undefined);
    this.identity.destroy();
    this.idp.destroy();
    this.dynamo.destroy();
  }

  // ---------------------------------------------------------------------------------- helpers

  private describeLink(report: LinkReport): string {
    if (report.outcome === "linked" || report.outcome === "merged") {
      return (
        `POST /identity/link with the guest proof: ${report.outcome} (guest ` +
        `${short(report.guestIdentityId)} → ${short(report.identityId)}).`
      );
    }
    return `POST /identity/link: ${report.outcome}.`;
  }

  private logins(idToken: string): Record<string, string> {
    return {
      [`cognito-idp.${this.target.region}.amazonaws.com/${this.target.userPoolId}`]: idToken,
    };
  }

  private async credentialsFor(identityId: string, idToken?: string) {
    const response = await this.identity.send(
      new GetCredentialsForIdentityCommand({
        IdentityId: identityId,
        ...(idToken ? { Logins: this.logins(idToken) } : {}),
      }),
    );
    const c = response.Credentials;
    if (!response.IdentityId || !c?.AccessKeyId || !c.SecretKey || !c.SessionToken) {
      throw new JourneyError("GetCredentialsForIdentity returned no credentials");
    }
    return {
      identityId: response.IdentityId,
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretKey,
        sessionToken: c.SessionToken,
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      } satisfies AwsCredentials,
    };
  }

  /** The role behind credentials, as STS GetCallerIdentity names it. */
  private async roleOf(credentials: AwsCredentials): Promise<string> {
    const sts = new STSClient({ ...this.clientConfig, credentials });
    try {
      const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
      return roleNameOf(Arn);
    } finally {
      sts.destroy();
    }
  }

  private async profileOf(sub: string): Promise<Profile | undefined> {
    const profile = await new DynamoProfileStore(this.dynamo, this.target.tableName).get(sub, {
      consistent: true,
    });
    return profile ?? undefined;
  }

  private cognitoSrp(email: string): Promise<CognitoUserSession> {
    const pool = new CognitoUserPool({
      UserPoolId: this.target.userPoolId,
      ClientId: this.target.userPoolClientId,
      endpoint: this.target.endpoint,
    });
    const user = new CognitoUser({ Username: email, Pool: pool });
    return this.bounded(
      "the SRP sign-in (amazon-cognito-identity-js)",
      new Promise<CognitoUserSession>((resolve, reject) => {
        user.authenticateUser(new AuthenticationDetails({ Username: email, Password: PASSWORD }), {
          onSuccess: resolve,
          onFailure: reject,
          newPasswordRequired: () => reject(new JourneyError("A new password is required")),
          mfaRequired: () => reject(new JourneyError("MFA is required")),
        });
      }),
    );
  }

  /** Verifies an ID token with aws-jwt-verify against the pool's published JWKS. */
  private async verifyIdToken(token: string): Promise<Record<string, unknown>> {
    const issuer = `${this.target.endpoint}/${this.target.userPoolId}`;
    const jwksUri = `${issuer}/.well-known/jwks.json`;
    const verifier = JwtRsaVerifier.create({
      issuer,
      audience: this.target.userPoolClientId,
      jwksUri,
      // An ID token: checked here since JwtRsaVerifier has no tokenUse option.
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== "id") throw new JourneyError("Not an ID token");
      },
    });
    // aws-jwt-verify fetches JWKS over https only: load the local pool's keys ourselves.
    const jwks = await fetch(jwksUri);
    if (!jwks.ok) throw new JourneyError(`The pool's JWKS answered ${jwks.status}`);
    verifier.cacheJwks((await jwks.json()) as never);
    return (await verifier.verify(token)) as Record<string, unknown>;
  }

  private async callApi(
    method: string,
    path: string,
    credentials: AwsCredentials | undefined,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    if (!credentials) throw new JourneyError(`No credentials to call ${method} /${path}`);
    const response = await signedFetch({
      url: new URL(path, withSlash(this.target.apiUrl)).toString(),
      method,
      region: this.target.region,
      credentials,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body: parsed };
  }

  private expectStatus(response: { status: number; body: unknown }, status: number, what: string) {
    if (response.status !== status) {
      throw new JourneyError(
        `${what} answered ${response.status} (expected ${status}): ${JSON.stringify(response.body)}`,
      );
    }
  }

  /** A SigV4-presigned `ws://.../mqtt` URL (service `iotdevicegateway`, token added after signing, as AWS IoT documents). */
  private async presignMqtt(credentials: AwsCredentials): Promise<string> {
    const url = new URL(this.target.mqttUrl);
    const signer = new SignatureV4({
      service: "iotdevicegateway",
      region: this.target.region,
      sha256: Sha256,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
      },
    });
    const signed = await signer.presign(
      {
        method: "GET",
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: {},
        headers: { host: url.host },
      },
      { expiresIn: 3600 },
    );
    const query = Object.entries(signed.query ?? {}).map(
      ([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`,
    );
    if (credentials.sessionToken) {
      query.push(`X-Amz-Security-Token=${encodeURIComponent(credentials.sessionToken)}`);
    }
    return `${url.origin}${url.pathname}?${query.join("&")}`;
  }

  private async connectMqtt(credentials: AwsCredentials, clientId: string): Promise<MqttClient> {
    const url = await this.presignMqtt(credentials);
    // No reconnects: a refusal must surface, not loop.
    const client = await this.bounded(
      "the MQTT connection",
      mqtt.connectAsync(
        url,
        { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: this.waitMs },
        false,
      ),
    );
    this.mqttClients.add(client);
    return client;
  }

  /** Polls `probe` until it returns a value, at most `waitMs`. */
  private async waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() >= deadline) {
        throw new JourneyError(`Gave up waiting for ${what} after ${this.waitMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 500)));
    }
  }

  /** `promise`, or a JourneyError after `waitMs`. */
  private bounded<T>(what: string, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new JourneyError(`Gave up waiting for ${what} after ${this.waitMs} ms`)),
        this.waitMs,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

const withSlash = (url: string) => (url.endsWith("/") ? url : `${url}/`);

/** The journey in order, for a narrator (`npm run demo`): a title and the step. */
export function journeySteps(
  journey: Journey,
): { title: string; run: () => Promise<StepResult> }[] {
  return [
    { title: "Guest identity", run: () => journey.guestIdentity() },
    { title: "Guest data", run: () => journey.guestData() },
    { title: "Guest proof", run: () => journey.guestProof() },
    { title: "Sign-up refused by the policy", run: () => journey.signUpDenied() },
    { title: "Sign-up accepted", run: () => journey.signUpAllowed() },
    { title: "Confirmation and profile", run: () => journey.confirm() },
    { title: "Events to the consumers", run: () => journey.confirmationEvents() },
    {
      title: "SRP sign-in, amazon-cognito-identity-js",
      run: () => journey.srpSignInWithCognitoIdentityJs(),
    },
    { title: "Sign-in traced", run: () => journey.signInTrace() },
    { title: "SRP sign-in, Amplify v6", run: () => journey.srpSignInWithAmplify() },
    { title: "Guest linked", run: () => journey.linkGuest() },
    { title: "Second device merged", run: () => journey.mergeSecondDevice() },
    { title: "IoT policy attached", run: () => journey.attachIot() },
    { title: "MQTT", run: () => journey.mqttPublish() },
    { title: "Profile (JWT route)", run: () => journey.profileRoute() },
    { title: "Operator promoted to admin", run: () => journey.adminSignIn() },
    { title: "Admin route", run: () => journey.adminRoute() },
    { title: "Account deleted", run: () => journey.deleteAccount() },
  ];
}
