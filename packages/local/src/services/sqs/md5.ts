/**
 * The digests SQS returns with SendMessage and ReceiveMessage. The SDK recomputes MD5OfBody (and
 * MD5OfMessageBody on send) and rejects a response whose digest differs, so these must be exact.
 *
 * MD5OfMessageAttributes follows SQS's documented encoding: attributes sorted by name, each as
 * length-prefixed (4-byte big-endian) name, length-prefixed data type, one transport byte
 * (1 for String and Number, 2 for Binary) and the length-prefixed value bytes.
 */
import { createHash } from "node:crypto";

/** A message attribute as SQS stores it: binary values base64-encoded, as on the JSON wire. */
export interface SqsAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export function md5Hex(data: string | Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

export function md5OfAttributes(attributes: Record<string, SqsAttributeValue>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash("md5");
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of names) {
    const attribute = attributes[name]!;
    lengthPrefixed(Buffer.from(name, "utf8"));
    lengthPrefixed(Buffer.from(attribute.DataType, "utf8"));
    if (attribute.DataType.startsWith("Binary")) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(attribute.BinaryValue ?? "", "base64"));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.StringValue ?? "", "utf8"));
    }
  }
  return hash.digest("hex");
}
