/**
 * Which IAM role would the identity pool give this token, and why?
 *
 *   npx tsx scripts/role.ts <id token | claims json | @file.json | guest>
 *     [--template path/to/template.json] [--custom-role-arn arn] [--provider key]
 *
 * Reads the role configuration from a synthesized template (never from AWS) and replays
 * Cognito's role resolution step by step. Exit code: 0 allow, 3 deny, 2 usage or setup error.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type ExplainRoleInput,
  explainRole,
  providerKeyFromClaims,
  type TokenClaims,
} from "@boarding-pass/local/services/cognito-identity/role-resolution";
import {
  identityPoolRoleConfigFromTemplate,
  RoleTemplateError,
  type TemplateRoleAttachment,
} from "@boarding-pass/local/services/cognito-identity/role-template";

const USAGE = `Usage: npx tsx scripts/role.ts <id token | claims json | @file.json | guest>
         [--template path/to/template.json] [--custom-role-arn arn] [--provider key]`;

/** Where synthesized Auth templates usually land, relative to the repository root. */
const TEMPLATE_LOCATIONS = [
  { dir: ".sst/local/templates", matches: (name: string) => /Auth.*\.json$/.test(name) },
  { dir: "cdk.out", matches: (name: string) => /Auth.*\.template\.json$/.test(name) },
];

class UsageError extends Error {}

function main(argv: readonly string[]): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      template: { type: "string" },
      "custom-role-arn": { type: "string" },
      provider: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [subject] = positionals;
  if (values.help || subject === undefined || positionals.length > 1) {
    throw new UsageError(USAGE);
  }

  const { claims, claimsSource } = readClaims(subject);
  const templatePath = values.template ?? findTemplate();
  const attachment = pickAttachment(
    identityPoolRoleConfigFromTemplate(JSON.parse(readFileSync(templatePath, "utf8"))),
    values.provider ?? (claims ? providerKeyFromClaims(claims) : undefined),
    templatePath,
  );

  const input: ExplainRoleInput = {
    config: attachment.config,
    claims,
    claimsSource,
    configSource: `${templatePath} (${attachment.logicalId})`,
    ...(values.provider !== undefined && { providerKey: values.provider }),
    ...(values["custom-role-arn"] !== undefined && { customRoleArn: values["custom-role-arn"] }),
  };
  const explanation = explainRole(input);
  console.log(explanation.lines.join("\n"));
  return explanation.exitCode;
}

function readClaims(subject: string): Pick<ExplainRoleInput, "claims" | "claimsSource"> {
  if (subject === "guest") return { claims: null, claimsSource: "guest" };
  const text = (subject.startsWith("@") ? readFileSync(subject.slice(1), "utf8") : subject).trim();
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(text)) {
    // Decoding only: nothing here checks the signature, and the output says so.
    const payload = text.split(".")[1] ?? "";
    return {
      claims: parseClaimsJson(Buffer.from(payload, "base64url").toString("utf8"), "token payload"),
      claimsSource: "unverified-jwt",
    };
  }
  return { claims: parseClaimsJson(text, "claims"), claimsSource: "claims-json" };
}

function parseClaimsJson(text: string, what: string): TokenClaims {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`Could not read the ${what}: expected an ID token or a JSON object.`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`The ${what} must be a JSON object of claims.`);
  }
  return value as TokenClaims;
}

function findTemplate(): string {
  const found = TEMPLATE_LOCATIONS.flatMap(({ dir, matches }) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter(matches)
          .sort()
          .map((name) => join(dir, name))
      : [],
  );
  const [first] = found;
  if (first === undefined) {
    throw new UsageError(
      "No synthesized Auth template found in .sst/local/templates/ or cdk.out/.\n" +
        "Run `npm run synth` first, or pass --template path/to/template.json.",
    );
  }
  if (found.length > 1) console.log(`Several templates found; using ${first} (see --template).`);
  return first;
}

function pickAttachment(
  attachments: readonly TemplateRoleAttachment[],
  providerKey: string | undefined,
  templatePath: string,
): TemplateRoleAttachment {
  const [first] = attachments;
  if (first === undefined) {
    throw new UsageError(`${templatePath} has no AWS::Cognito::IdentityPoolRoleAttachment.`);
  }
  return (
    attachments.find(
      (attachment) =>
        providerKey !== undefined && Object.hasOwn(attachment.config.roleMappings, providerKey),
    ) ?? first
  );
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  // Problems with the input get their message only; anything else is a bug worth a stack trace.
  const expected =
    error instanceof UsageError ||
    error instanceof RoleTemplateError ||
    error instanceof SyntaxError ||
    (error as NodeJS.ErrnoException).code === "ENOENT";
  console.error(expected ? (error as Error).message : error);
  process.exitCode = 2;
}
