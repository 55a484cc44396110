/**
 * Fidelity fixes of the hardening review (issue 12, section 4), each against the AWS page named in
 * its describe: AdminInitiateAuth USER_SRP_AUTH, AdminRespondToAuthChallenge's UserPoolId, missing
 * challenge parameters, single-use password-verifier answers, protected claims, ClientMetadata in
 * pre token generation, and the OpenID discovery document. All through the unmodified SDK; the SRP
 * math on the client side is amazon-cognito-identity-js's (srp-client.ts).
 */
import {
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
  InvalidLambdaResponseException,
  InvalidParameterException,
  NotAuthorizedException,
  ResourceNotFoundException,
  RespondToAuthChallengeCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { srpClient } from "@boarding-pass/testing/srp-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { UserPoolDefinition } from "../../src/services/cognito-idp/index";
import { type CognitoHarness, freshEmail, PASSWORD, startCognito } from "./harness";

const PRE_TOKEN = "arn:aws:lambda:us-east-1:000000000000:function:pre-token-generation";
type Handler = (event: Record<string, unknown>) => Promise<object | undefined>;

let h: CognitoHarness;
let events: Record<string, unknown>[];
let handler: Handler | undefined;

beforeAll(async () => {
  h = await startCognito({
    invokeTrigger: async (_arn, event) => {
      events.push(structuredClone(event) as Record<string, unknown>);
      const result = handler ? await handler(event as Record<string, unknown>) : undefined;
      return result ?? event;
    },
  });
});
beforeEach(() => {
  events = [];
  handler = undefined;
});
afterAll(async () => {
  await h.stop();
});

/** A pool with the SRP, password and admin flows; an explicit tier keeps each test to its fix. */
function pool(lambda?: UserPoolDefinition["LambdaConfig"]) {
  const created = h.cognito.createUserPool({
    UsernameAttributes: ["email"],
    AutoVerifiedAttributes: ["email"],
    UserPoolTier: "ESSENTIALS",
    ...(lambda ? { LambdaConfig: lambda } : {}),
  });
  const { ClientId } = h.cognito.createUserPoolClient(created.Id, {
    ExplicitAuthFlows: [
      "ALLOW_USER_SRP_AUTH",
      "ALLOW_USER_PASSWORD_AUTH",
      "ALLOW_ADMIN_USER_PASSWORD_AUTH",
      "ALLOW_REFRESH_TOKEN_AUTH",
    ],
  });
  return { poolId: created.Id, clientId: ClientId };
}

/** A confirmed user with PASSWORD, made the server-side way. */
async function user(poolId: string, email = freshEmail()) {
  await h.client.send(
    new AdminCreateUserCommand({
      UserPoolId: poolId,
      Username: email,
      MessageAction: "SUPPRESS",
      UserAttributes: [
        { Name: "email", Value: email },
        { Name: "email_verified", Value: "true" },
      ],
    }),
  );
  await h.client.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: poolId,
      Username: email,
      Password: PASSWORD,
      Permanent: true,
    }),
  );
  return email;
}

/** AdminInitiateAuth USER_SRP_AUTH: the challenge and the client that can answer it. */
async function adminSrpStart(poolId: string, clientId: string, email: string) {
  const srp = await srpClient(poolId);
  const started = await h.client.send(
    new AdminInitiateAuthCommand({
      UserPoolId: poolId,
      ClientId: clientId,
      AuthFlow: "USER_SRP_AUTH",
      AuthParameters: { USERNAME: email, SRP_A: srp.srpA },
    }),
  );
  return { srp, started };
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

describe("AdminInitiateAuth accepts USER_SRP_AUTH (API_AdminInitiateAuth.html, AuthFlow)", () => {
  it("answers PASSWORD_VERIFIER, and AdminRespondToAuthChallenge issues the tokens", async () => {
    const { poolId, clientId } = pool();
    const email = await user(poolId);
    const { srp, started } = await adminSrpStart(poolId, clientId, email);
    expect(started.ChallengeName).toBe("PASSWORD_VERIFIER");
    const responses = await srp.answer(started.ChallengeParameters!, PASSWORD);
    const done = await h.client.send(
      new AdminRespondToAuthChallengeCommand({
        UserPoolId: poolId,
        ClientId: clientId,
        ChallengeName: "PASSWORD_VERIFIER",
        ChallengeResponses: responses,
      }),
    );
    expect(claimsOf(done.AuthenticationResult!.IdToken!)).toMatchObject({
      email,
      token_use: "id",
    });
  });

  it("refuses a wrong password with NotAuthorizedException", async () => {
    const { poolId, clientId } = pool();
    const email = await user(poolId);
    const { srp, started } = await adminSrpStart(poolId, clientId, email);
    const responses = await srp.answer(started.ChallengeParameters!, "Wr0ng-password!");
    const error = await rejection(
      h.client.send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: poolId,
          ClientId: clientId,
          ChallengeName: "PASSWORD_VERIFIER",
          ChallengeResponses: responses,
        }),
      ),
    );
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Incorrect username or password.");
  });
});

describe("AdminRespondToAuthChallenge requires and checks UserPoolId (API_AdminRespondToAuthChallenge.html)", () => {
  it("refuses a missing pool id, an unknown one, another pool's, and a session sealed by another pool", async () => {
    const a = pool();
    const b = pool();
    const email = await user(a.poolId);
    const { srp, started } = await adminSrpStart(a.poolId, a.clientId, email);
    const responses = await srp.answer(started.ChallengeParameters!, PASSWORD);
    const answer = (UserPoolId: string | undefined, ClientId: string) =>
      rejection(
        h.client.send(
          new AdminRespondToAuthChallengeCommand({
            UserPoolId: UserPoolId as string,
            ClientId,
            ChallengeName: "PASSWORD_VERIFIER",
            ChallengeResponses: responses,
          }),
        ),
      );

    const missing = await answer(undefined, a.clientId);
    expect(missing).toBeInstanceOf(InvalidParameterException);
    expect(missing.message).toBe(
      "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
    );
    const unknown = await answer("us-east-1_Missing00", a.clientId);
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(unknown.message).toBe("User pool us-east-1_Missing00 does not exist.");
    const otherPool = await answer(b.poolId, a.clientId);
    expect(otherPool).toBeInstanceOf(ResourceNotFoundException);
    expect(otherPool.message).toBe(`User pool client ${a.clientId} does not exist.`);
    // Pool B with its own client, answering pool A's challenge: the session does not open.
    const foreignSession = await answer(b.poolId, b.clientId);
    expect(foreignSession).toBeInstanceOf(NotAuthorizedException);

    // None of the refusals spent the session: the right request still signs in.
    const done = await h.client.send(
      new AdminRespondToAuthChallengeCommand({
        UserPoolId: a.poolId,
        ClientId: a.clientId,
        ChallengeName: "PASSWORD_VERIFIER",
        ChallengeResponses: responses,
      }),
    );
    expect(done.AuthenticationResult?.AccessToken).toBeTruthy();
  });
});

describe("missing challenge parameters (API_RespondToAuthChallenge.html, ChallengeResponses)", () => {
  it("PASSWORD_VERIFIER: each of PASSWORD_CLAIM_SIGNATURE, PASSWORD_CLAIM_SECRET_BLOCK, TIMESTAMP, USERNAME", async () => {
    const { poolId, clientId } = pool();
    const email = await user(poolId);
    const srp = await srpClient(poolId);
    const started = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_SRP_AUTH",
        AuthParameters: { USERNAME: email, SRP_A: srp.srpA },
      }),
    );
    const responses: Record<string, string> = await srp.answer(
      started.ChallengeParameters!,
      PASSWORD,
    );
    for (const name of [
      "PASSWORD_CLAIM_SIGNATURE",
      "PASSWORD_CLAIM_SECRET_BLOCK",
      "TIMESTAMP",
      "USERNAME",
    ]) {
      const { [name]: _left, ...partial } = responses;
      const error = await rejection(
        h.client.send(
          new RespondToAuthChallengeCommand({
            ClientId: clientId,
            ChallengeName: "PASSWORD_VERIFIER",
            ChallengeResponses: partial,
          }),
        ),
      );
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect(error.message).toBe(`Missing required parameter ${name}`);
    }
  });

  it("NEW_PASSWORD_REQUIRED: NEW_PASSWORD and USERNAME", async () => {
    const { poolId, clientId } = pool();
    const email = freshEmail();
    await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: email,
        TemporaryPassword: "Temp0rary-pass!",
        MessageAction: "SUPPRESS",
        UserAttributes: [{ Name: "email", Value: email }],
      }),
    );
    const challenge = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: "Temp0rary-pass!" },
      }),
    );
    expect(challenge.ChallengeName).toBe("NEW_PASSWORD_REQUIRED");
    const respond = (ChallengeResponses: Record<string, string>) =>
      h.client.send(
        new RespondToAuthChallengeCommand({
          ClientId: clientId,
          ChallengeName: "NEW_PASSWORD_REQUIRED",
          Session: challenge.Session,
          ChallengeResponses,
        }),
      );
    const noPassword = await rejection(respond({ USERNAME: email }));
    expect(noPassword).toBeInstanceOf(InvalidParameterException);
    expect(noPassword.message).toBe("Missing required parameter NEW_PASSWORD");
    const noUsername = await rejection(respond({ NEW_PASSWORD: PASSWORD }));
    expect(noUsername).toBeInstanceOf(InvalidParameterException);
    expect(noUsername.message).toBe("Missing required parameter USERNAME");
    const done = await respond({ USERNAME: email, NEW_PASSWORD: PASSWORD });
    expect(done.AuthenticationResult?.IdToken).toBeTruthy();
  });
});

describe("a password-verifier answer is single-use (API_RespondToAuthChallenge.html, Session)", () => {
  it("refuses the same secret block and signature a second time", async () => {
    const { poolId, clientId } = pool();
    const email = await user(poolId);
    const srp = await srpClient(poolId);
    const started = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_SRP_AUTH",
        AuthParameters: { USERNAME: email, SRP_A: srp.srpA },
      }),
    );
    const responses = await srp.answer(started.ChallengeParameters!, PASSWORD);
    const answer = () =>
      h.client.send(
        new RespondToAuthChallengeCommand({
          ClientId: clientId,
          ChallengeName: "PASSWORD_VERIFIER",
          ChallengeResponses: responses,
        }),
      );
    expect((await answer()).AuthenticationResult?.AccessToken).toBeTruthy();
    const replay = await rejection(answer());
    expect(replay).toBeInstanceOf(NotAuthorizedException);
    expect(replay.message).toBe("Invalid session for the user, session can only be used once.");
  });

  it("spends the session on a wrong answer too: the right one after it is refused", async () => {
    const { poolId, clientId } = pool();
    const email = await user(poolId);
    const { srp, started } = await adminSrpStart(poolId, clientId, email);
    const send = (ChallengeResponses: Record<string, string>) =>
      h.client.send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: poolId,
          ClientId: clientId,
          ChallengeName: "PASSWORD_VERIFIER",
          ChallengeResponses,
        }),
      );
    const wrong = await srp.answer(started.ChallengeParameters!, "Wr0ng-password!");
    expect(await rejection(send(wrong))).toBeInstanceOf(NotAuthorizedException);
    const right = await srp.answer(started.ChallengeParameters!, PASSWORD);
    const error = await rejection(send(right));
    expect(error.message).toBe("Invalid session for the user, session can only be used once.");
  });
});

describe("protected claims (user-pool-lambda-pre-token-generation.html, excluded claims)", () => {
  const v2 = { PreTokenGenerationConfig: { LambdaArn: PRE_TOKEN, LambdaVersion: "V2_0" as const } };

  async function signInWith(response: object, lambda: UserPoolDefinition["LambdaConfig"]) {
    const { poolId, clientId } = pool(lambda);
    const email = await user(poolId);
    handler = async (event) => ({ ...event, response });
    return rejection(
      h.client.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: email, PASSWORD },
        }),
      ),
    );
  }

  it("refuses a dev:-prefixed claim, in V1 and in either V2 token", async () => {
    const v1 = await signInWith(
      { claimsOverrideDetails: { claimsToAddOrOverride: { "dev:debug": "on" } } },
      { PreTokenGeneration: PRE_TOKEN },
    );
    expect(v1).toBeInstanceOf(InvalidLambdaResponseException);
    for (const token of ["idTokenGeneration", "accessTokenGeneration"]) {
      const error = await signInWith(
        { claimsAndScopeOverrideDetails: { [token]: { claimsToAddOrOverride: { "dev:x": 1 } } } },
        v2,
      );
      expect(error).toBeInstanceOf(InvalidLambdaResponseException);
    }
  });

  it("refuses overriding or suppressing the access token's client_id and event_id", async () => {
    for (const changes of [
      { claimsToAddOrOverride: { client_id: "another-client" } },
      { claimsToAddOrOverride: { event_id: "forged" } },
      { claimsToSuppress: ["client_id"] },
      { claimsToSuppress: ["event_id"] },
    ]) {
      const error = await signInWith(
        { claimsAndScopeOverrideDetails: { accessTokenGeneration: changes } },
        v2,
      );
      expect(error).toBeInstanceOf(InvalidLambdaResponseException);
      expect(error.message).toMatch(/^Invalid lambda response received: /);
    }
  });
});

describe("ClientMetadata reaches pre token generation from RespondToAuthChallenge only (user-pool-lambda-pre-token-generation.html, clientMetadata; API_InitiateAuth.html, ClientMetadata)", () => {
  it("RespondToAuthChallenge's and AdminRespondToAuthChallenge's ClientMetadata are in the event; InitiateAuth's is not", async () => {
    const { poolId, clientId } = pool({
      PreTokenGenerationConfig: { LambdaArn: PRE_TOKEN, LambdaVersion: "V2_0" },
    });
    const email = await user(poolId);

    const srp = await srpClient(poolId);
    const started = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_SRP_AUTH",
        AuthParameters: { USERNAME: email, SRP_A: srp.srpA },
        ClientMetadata: { step: "initiate" },
      }),
    );
    await h.client.send(
      new RespondToAuthChallengeCommand({
        ClientId: clientId,
        ChallengeName: "PASSWORD_VERIFIER",
        ChallengeResponses: await srp.answer(started.ChallengeParameters!, PASSWORD),
        ClientMetadata: { origin: "web", step: "respond" },
      }),
    );
    expect(events.at(-1)).toMatchObject({
      version: "2",
      triggerSource: "TokenGeneration_Authentication",
      request: { clientMetadata: { origin: "web", step: "respond" } },
    });

    const admin = await adminSrpStart(poolId, clientId, email);
    await h.client.send(
      new AdminRespondToAuthChallengeCommand({
        UserPoolId: poolId,
        ClientId: clientId,
        ChallengeName: "PASSWORD_VERIFIER",
        ChallengeResponses: await admin.srp.answer(admin.started.ChallengeParameters!, PASSWORD),
        ClientMetadata: { origin: "back-office" },
      }),
    );
    expect((events.at(-1)!.request as Record<string, unknown>).clientMetadata).toEqual({
      origin: "back-office",
    });

    // InitiateAuth "invokes the functions for the following triggers, but doesn't pass
    // ClientMetadata: ... Pre token generation".
    await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD },
        ClientMetadata: { origin: "initiate" },
      }),
    );
    expect(events.at(-1)!.request).not.toHaveProperty("clientMetadata");
  });
});

describe("OpenID discovery advertises only what the pool serves (OpenID Connect Discovery 1.0)", () => {
  it("names the issuer and JWKS, no OAuth endpoints, grants or response types", async () => {
    const { poolId } = pool();
    const response = await fetch(`${h.endpoint}/${poolId}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown>;
    expect(document).toEqual({
      issuer: `${h.endpoint}/${poolId}`,
      jwks_uri: `${h.endpoint}/${poolId}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ["RS256"],
      subject_types_supported: ["public"],
      response_types_supported: [],
    });
    // Every URL it names answers.
    for (const value of Object.values(document)) {
      if (typeof value === "string" && value.startsWith("http") && value !== document.issuer) {
        expect((await fetch(value)).status).toBe(200);
      }
    }
  });
});
