/**
 * The one place that makes URLs safe to print: the user-info part (`user:password@`) of a URL
 * is a secret and is replaced by `***`, in a URL and wherever one appears inside a message.
 */

const REDACTED = '***';

/** `http://user:pw@host:5001/x` → `http://***@host:5001/x`; anything else is returned as it is. */
export function safeUrl(url: string | URL): string {
  const text = String(url);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return redactSecrets(text);
  }
  if (!parsed.username && !parsed.password) return text;
  parsed.username = '';
  parsed.password = '';
  return parsed.href.replace('://', `://${REDACTED}@`);
}

/**
 * Replaces the user-info of every URL in a free text (an error message from a library, a line
 * of output). Stops at the last '@' before the host, so a password holding '@' is covered too.
 */
export function redactSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#'"<>`]*@/gi, `$1${REDACTED}@`);
}
