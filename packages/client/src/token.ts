// What a lockstep token (a root token or a `lst_` secret) may hold: what every
// HTTP client can send as `Authorization: Bearer <token>`. Node's own client
// refuses a header with a control character or a character above U+00FF, and
// sends U+0080-U+00FF as one byte each, which no server reads back as the same
// string. The one rule of the SDK, the CLI's --token and serve's root token.

/** Visible ASCII, no spaces, not empty. */
export function isSendableToken(token: string): boolean {
  return /^[\x21-\x7E]+$/.test(token);
}
