/**
 * Helpers for tests and tools that set up the local services by hand (the local cloud itself takes
 * roles and trust policies from the synthesized stacks).
 */

/** The trust policy an identity-pool role needs: the pool's `aud` and the caller's `amr`. */
export function identityPoolTrustPolicy(
  identityPoolId: string,
  amr: "authenticated" | "unauthenticated",
) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: "cognito-identity.amazonaws.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { "cognito-identity.amazonaws.com:aud": identityPoolId },
          "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": amr },
        },
      },
    ],
  };
}
