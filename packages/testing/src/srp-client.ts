/**
 * The client half of USER_SRP_AUTH, computed by amazon-cognito-identity-js's own
 * `AuthenticationHelper` and `DateHelper` (the code its `authenticateUser` runs), so tests can
 * drive the SRP flow through the plain SDK's InitiateAuth / AdminInitiateAuth and
 * (Admin)RespondToAuthChallenge with an independent implementation of the math, never the
 * emulator's own. The package exports both classes but types neither: the shapes below are the
 * parts it documents in its source.
 */
import { createHmac } from "node:crypto";
import * as cognitoJs from "amazon-cognito-identity-js";

interface BigIntegerLike {
  toString(radix: number): string;
}
interface AuthenticationHelperLike {
  N: { constructor: new (hex: string, radix: number) => BigIntegerLike };
  getLargeAValue(callback: (error: unknown, value: BigIntegerLike) => void): void;
  getPasswordAuthenticationKey(
    username: string,
    password: string,
    serverB: BigIntegerLike,
    salt: BigIntegerLike,
    callback: (error: unknown, key: Buffer) => void,
  ): void;
}
const { AuthenticationHelper, DateHelper } = cognitoJs as unknown as {
  AuthenticationHelper: new (poolName: string) => AuthenticationHelperLike;
  DateHelper: new () => { getNowString(): string };
};

/** One SRP exchange for a user of `poolId`: `srpA` first, then `answer(challenge)`. */
export async function srpClient(poolId: string) {
  const poolName = poolId.split("_")[1] ?? "";
  const helper = new AuthenticationHelper(poolName);
  const largeA = await new Promise<BigIntegerLike>((resolve, reject) =>
    helper.getLargeAValue((error, value) => (error ? reject(error) : resolve(value))),
  );
  const BigInteger = helper.N.constructor;
  return {
    srpA: largeA.toString(16),
    /** The PASSWORD_VERIFIER ChallengeResponses for `password`, as the library builds them. */
    async answer(challenge: Record<string, string>, password: string) {
      const userId = challenge.USER_ID_FOR_SRP!;
      const key = await new Promise<Buffer>((resolve, reject) =>
        helper.getPasswordAuthenticationKey(
          userId,
          password,
          new BigInteger(challenge.SRP_B!, 16),
          new BigInteger(challenge.SALT!, 16),
          (error, value) => (error ? reject(error) : resolve(value)),
        ),
      );
      const timestamp = new DateHelper().getNowString();
      const signature = createHmac("sha256", key)
        .update(
          Buffer.concat([
            Buffer.from(poolName, "utf8"),
            Buffer.from(userId, "utf8"),
            Buffer.from(challenge.SECRET_BLOCK!, "base64"),
            Buffer.from(timestamp, "utf8"),
          ]),
        )
        .digest("base64");
      return {
        USERNAME: userId,
        PASSWORD_CLAIM_SECRET_BLOCK: challenge.SECRET_BLOCK!,
        TIMESTAMP: timestamp,
        PASSWORD_CLAIM_SIGNATURE: signature,
      };
    },
  };
}
