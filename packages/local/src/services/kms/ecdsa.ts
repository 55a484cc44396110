/**
 * ECDSA over a precomputed digest (KMS `MessageType: DIGEST`), which node:crypto cannot do: its
 * `sign`/`verify` always hash the input. Plain BigInt arithmetic on the NIST prime curves (FIPS
 * 186-4 / SEC 1 §4.1), in Jacobian coordinates. Local emulation only: not constant time.
 * `RAW` messages never come here; node:crypto signs them.
 */
import { createHash, createHmac, type KeyObject, randomBytes } from "node:crypto";

interface Curve {
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  /** Field element size in bytes. */
  size: number;
}

const CURVES: Readonly<Record<string, Curve>> = {
  "P-256": {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    size: 32,
  },
  "P-384": {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    size: 48,
  },
  "P-521": {
    p: (1n << 521n) - 1n,
    a: (1n << 521n) - 4n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    gy: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
    size: 66,
  },
};

type Jacobian = readonly [x: bigint, y: bigint, z: bigint];
const INFINITY: Jacobian = [0n, 1n, 0n];

const mod = (value: bigint, m: bigint): bigint => {
  const r = value % m;
  return r < 0n ? r + m : r;
};

function inverse(value: bigint, m: bigint): bigint {
  // Extended Euclid; m is prime and value non-zero modulo m.
  let [a, b, x, y] = [mod(value, m), m, 1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b, x, y] = [b, a - q * b, y, x - q * y];
  }
  return mod(x, m);
}

function double(curve: Curve, [x, y, z]: Jacobian): Jacobian {
  if (z === 0n || y === 0n) return INFINITY;
  const { p, a } = curve;
  const yy = mod(y * y, p);
  const s = mod(4n * x * yy, p);
  const zz = mod(z * z, p);
  const m = mod(3n * x * x + a * zz * zz, p);
  const x3 = mod(m * m - 2n * s, p);
  const y3 = mod(m * (s - x3) - 8n * yy * yy, p);
  return [x3, y3, mod(2n * y * z, p)];
}

function add(curve: Curve, left: Jacobian, right: Jacobian): Jacobian {
  const [x1, y1, z1] = left;
  const [x2, y2, z2] = right;
  if (z1 === 0n) return right;
  if (z2 === 0n) return left;
  const { p } = curve;
  const z1z1 = mod(z1 * z1, p);
  const z2z2 = mod(z2 * z2, p);
  const u1 = mod(x1 * z2z2, p);
  const u2 = mod(x2 * z1z1, p);
  const s1 = mod(y1 * z2 * z2z2, p);
  const s2 = mod(y2 * z1 * z1z1, p);
  if (u1 === u2) return s1 === s2 ? double(curve, left) : INFINITY;
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const hh = mod(h * h, p);
  const hhh = mod(h * hh, p);
  const v = mod(u1 * hh, p);
  const x3 = mod(r * r - hhh - 2n * v, p);
  const y3 = mod(r * (v - x3) - s1 * hhh, p);
  return [x3, y3, mod(h * z1 * z2, p)];
}

function multiply(curve: Curve, point: Jacobian, scalar: bigint): Jacobian {
  let result = INFINITY;
  let addend = point;
  let k = scalar;
  while (k > 0n) {
    if (k & 1n) result = add(curve, result, addend);
    addend = double(curve, addend);
    k >>= 1n;
  }
  return result;
}

function affineX(curve: Curve, [x, , z]: Jacobian): bigint | undefined {
  if (z === 0n) return undefined;
  const zInv = inverse(z, curve.p);
  return mod(x * zInv * zInv, curve.p);
}

const toBigInt = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`);

const fromBase64Url = (value: string | undefined): bigint =>
  toBigInt(Buffer.from(value ?? "", "base64url"));

/** SEC 1 §4.1.3 step 5: the leftmost bits of the digest, as many as the order has. */
function digestToInteger(curve: Curve, digest: Uint8Array): bigint {
  const orderBits = curve.n.toString(2).length;
  const e = toBigInt(digest);
  const excess = digest.length * 8 - orderBits;
  return excess > 0 ? e >> BigInt(excess) : e;
}

function curveOf(key: KeyObject): Curve {
  const name = key.asymmetricKeyDetails?.namedCurve;
  const byOid: Record<string, string> = {
    prime256v1: "P-256",
    secp384r1: "P-384",
    secp521r1: "P-521",
  };
  const curve = CURVES[byOid[name ?? ""] ?? name ?? ""];
  if (!curve) throw new Error(`Unsupported curve ${String(name)}`);
  return curve;
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }`, as KMS and node:crypto encode ECDSA signatures. */
function derSignature(r: bigint, s: bigint): Buffer {
  const integer = (value: bigint) => {
    let hex = value.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    let bytes = Buffer.from(hex, "hex");
    if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02]), derLength(bytes.length), bytes]);
  };
  const body = Buffer.concat([integer(r), integer(s)]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}

function parseDerSignature(signature: Uint8Array): { r: bigint; s: bigint } | undefined {
  const bytes = Buffer.from(signature);
  let offset = 0;
  const readLength = (): number | undefined => {
    const first = bytes[offset++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    const count = first & 0x7f;
    if (count < 1 || count > 2) return undefined;
    let length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | (bytes[offset++] ?? 0);
    return length;
  };
  if (bytes[offset++] !== 0x30) return undefined;
  const total = readLength();
  if (total === undefined || offset + total !== bytes.length) return undefined;
  const readInteger = (): bigint | undefined => {
    if (bytes[offset++] !== 0x02) return undefined;
    const length = readLength();
    if (length === undefined || length < 1 || offset + length > bytes.length) return undefined;
    const value = toBigInt(bytes.subarray(offset, offset + length));
    offset += length;
    return value;
  };
  const r = readInteger();
  const s = readInteger();
  if (r === undefined || s === undefined || offset !== bytes.length) return undefined;
  return { r, s };
}

/** Signs a digest with an EC private key; DER signature, random nonce. */
export function ecdsaSignDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const curve = curveOf(privateKey);
  const d = fromBase64Url(privateKey.export({ format: "jwk" }).d);
  const e = digestToInteger(curve, digest);
  const g: Jacobian = [curve.gx, curve.gy, 1n];
  // Bounded: a nonce yielding r = 0 or s = 0 has probability ~2^-256 per try.
  for (let attempt = 0; attempt < 64; attempt++) {
    // Nonce from fresh randomness hashed with the key and digest (a failing RNG does not leak d).
    const seed = createHmac("sha512", randomBytes(32))
      .update(Buffer.from(d.toString(16), "hex"))
      .update(digest)
      .digest();
    const k = mod(
      toBigInt(Buffer.concat([seed, createHash("sha512").update(seed).digest()])),
      curve.n,
    );
    if (k === 0n) continue;
    const x = affineX(curve, multiply(curve, g, k));
    if (x === undefined) continue;
    const r = mod(x, curve.n);
    if (r === 0n) continue;
    let s = mod(inverse(k, curve.n) * (e + r * d), curve.n);
    if (s === 0n) continue;
    // Low-s form, as OpenSSL does not require but many verifiers prefer; both verify.
    if (s > curve.n / 2n) s = curve.n - s;
    return derSignature(r, s);
  }
  throw new Error("ECDSA signing failed to find a nonce");
}

/** Verifies a DER ECDSA signature over a digest with an EC public key. */
export function ecdsaVerifyDigest(
  publicKey: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const curve = curveOf(publicKey);
  const parsed = parseDerSignature(signature);
  if (!parsed) return false;
  const { r, s } = parsed;
  if (r <= 0n || r >= curve.n || s <= 0n || s >= curve.n) return false;
  const jwk = publicKey.export({ format: "jwk" });
  const q: Jacobian = [fromBase64Url(jwk.x), fromBase64Url(jwk.y), 1n];
  const e = digestToInteger(curve, digest);
  const w = inverse(s, curve.n);
  const g: Jacobian = [curve.gx, curve.gy, 1n];
  const point = add(
    curve,
    multiply(curve, g, mod(e * w, curve.n)),
    multiply(curve, q, mod(r * w, curve.n)),
  );
  const x = affineX(curve, point);
  return x !== undefined && mod(x, curve.n) === r;
}
