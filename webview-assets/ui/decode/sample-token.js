// @ts-check
/**
 * The decoder's "Try a sample": a token issued now and valid for an hour,
 * made here (no call to the host).
 */

/** @param {unknown} value */
function base64url(value) {
  const bytes = new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A token for trying the decoder, issued now and valid for an hour. Its
 * signature segment is a label, not a signature: decoding doesn't check it,
 * and the label says so.
 */
export function sampleToken() {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "HS256", typ: "JWT", kid: "sample" };
  const payload = { sub: "user-1234", name: "Ada Lovelace", aud: "tollgate-demo", iat: now, nbf: now, exp: now + 3600 };
  return `${base64url(header)}.${base64url(payload)}.${base64url("sample-signature-not-valid")}`;
}
