/**
 * How Lambda names a function in Invoke: a name, a name with a qualifier, a partial ARN
 * (`<account>:function:<name>`) or a full ARN, each optionally qualified (`:$LATEST`). Locally
 * only `$LATEST` exists (no versions or aliases are published).
 */
interface FunctionReference {
  name: string;
  qualifier?: string;
}

const FULL_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([^:]+)(?::([^:]+))?$/;
const PARTIAL_ARN = /^\d{12}:function:([^:]+)(?::([^:]+))?$/;
const NAME = /^([^:]+)(?::([^:]+))?$/;

export function parseFunctionReference(reference: string): FunctionReference | undefined {
  const match = FULL_ARN.exec(reference) ?? PARTIAL_ARN.exec(reference) ?? NAME.exec(reference);
  if (!match?.[1]) return undefined;
  return match[2] === undefined ? { name: match[1] } : { name: match[1], qualifier: match[2] };
}

/** The qualifiers that reach the one local version. */
export function isLatest(qualifier: string | undefined): boolean {
  return qualifier === undefined || qualifier === "$LATEST";
}

/**
 * `packages/functions/src/cognito/pre-sign-up.handler` → module `packages/functions/src/cognito/
 * pre-sign-up`, export path `handler`. Like the Node runtime, the module ends at the first dot
 * after the last slash, and the rest may name a nested export (`index.api.get`).
 */
export function splitHandler(handler: string): { module: string; exportPath: string[] } {
  const slash = handler.lastIndexOf("/");
  const dot = handler.indexOf(".", slash + 1);
  if (dot <= slash + 1 || dot === handler.length - 1) {
    throw new Error(`Bad handler ${handler}: expected <module>.<export>`);
  }
  return { module: handler.slice(0, dot), exportPath: handler.slice(dot + 1).split(".") };
}
