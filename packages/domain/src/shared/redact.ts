/**
 * How a provider may echo a key back in an error: as sent, URL-encoded (a key in a query
 * string), JSON-escaped, or in Basic auth's base64. Longest first, so that no spelling is cut
 * inside another.
 */
function spellings(secret: string): string[] {
  const all = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), Buffer.from(secret).toString('base64')];
  return [...new Set(all)].filter((spelling) => spelling.length >= 4).sort((a, b) => b.length - a.length);
}

/** `text` with `secret` cut out in each of its spellings. */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret ? spellings(secret).reduce((out, spelling) => out.split(spelling).join('[redacted]'), text) : text;
}
