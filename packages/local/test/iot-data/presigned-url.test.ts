/**
 * The presigned-query check on its own, with URLs from the real SigV4 signer and credentials from
 * the real local STS: the shapes clients produce that the end-to-end tests do not cover.
 */
import { afterAll, describe, expect, it } from "vitest";
import { verifyPresignedUrl } from "../../src/services/iot-data/presigned-url";
import { createStsService } from "../../src/services/sts/index";
import { presignedUrl, REGION } from "./fixtures";

const sts = createStsService({ region: REGION });
const issue = () =>
  sts.issueCredentials({
    roleArn: "arn:aws:iam::000000000000:role/member",
    sessionName: "CognitoIdentityCredentials",
    subject: "s",
    identityId: `${REGION}:00000000-0000-0000-0000-000000000001`,
    durationSeconds: 3600,
  });
/** Tokens are random base64: about 2% hold no `+`; a few tries (bounded) find one that does. */
const credentials =
  Array.from({ length: 20 }, issue).find((c) => c.sessionToken.includes("+")) ?? issue();
const HOST = "127.0.0.1:1883";

afterAll(() => sts.close());

function verify(url: string, headers: Record<string, string> = { host: HOST }) {
  const target = url.slice(url.indexOf("/mqtt"));
  return verifyPresignedUrl(
    { method: "GET", url: target, headers },
    { region: REGION, lookupCredentials: (key) => sts.lookupCredentials(key), now: Date.now() },
  );
}

describe("verifyPresignedUrl", () => {
  it("accepts a token appended without percent-encoding (its + and / kept)", async () => {
    const url = await presignedUrl(`ws://${HOST}/mqtt`, credentials);
    const raw = url.replace(
      /X-Amz-Security-Token=[^&]*/,
      `X-Amz-Security-Token=${credentials.sessionToken}`,
    );
    expect(credentials.sessionToken).toContain("+");
    expect(verify(raw)).toMatchObject({ ok: true });
  });

  it("binds the signature to the Host header", async () => {
    const url = await presignedUrl(`ws://${HOST}/mqtt`, credentials);
    expect(verify(url)).toMatchObject({ ok: true });
    expect(verify(url, { host: "127.0.0.1:9999" })).toEqual({
      ok: false,
      reason: "signature does not match",
    });
    expect(verify(url, {})).toMatchObject({ ok: false });
  });

  it("refuses another region, a scope date that is not the signing date, and a bad expiry", async () => {
    expect(
      verify(await presignedUrl(`ws://${HOST}/mqtt`, credentials, { region: "eu-west-1" })),
    ).toMatchObject({ ok: false, reason: expect.stringContaining("region eu-west-1") });
    const url = await presignedUrl(`ws://${HOST}/mqtt`, credentials);
    const date = /X-Amz-Date=(\d{8})/.exec(url)![1]!;
    const shifted = url.replace(`%2F${date}%2F`, "%2F19990101%2F");
    expect(verify(shifted)).toMatchObject({ ok: false, reason: expect.stringContaining("date") });
    const forever = url.replace(/X-Amz-Expires=\d+/, "X-Amz-Expires=999999999");
    expect(verify(forever)).toMatchObject({ ok: false, reason: "X-Amz-Expires out of range" });
  });

  it("refuses repeated or malformed parameters instead of guessing", async () => {
    const url = await presignedUrl(`ws://${HOST}/mqtt`, credentials);
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(url)![1]!;
    expect(verify(`${url}&X-Amz-Signature=${signature}`)).toMatchObject({ ok: false });
    expect(verify(`${url}&bad=%E0%A4%A`)).toEqual({ ok: false, reason: "malformed query string" });
    expect(verify("/mqtt")).toMatchObject({ ok: false });
  });
});
