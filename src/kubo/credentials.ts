/**
 * The `Authorization` header for a Kubo API secret, in each form a user may copy it:
 * Kubo's own `API.Authorizations` AuthSecret (`bearer:TOKEN`, `basic:USER:PASSWORD`),
 * a header value (`Bearer …`, `Basic …`), or a bare token (sent as Bearer, as Kubo reads it).
 */
export function authorizationFor(secret: string): string {
  const trimmed = secret.trim();
  if (/^(Bearer|Basic) /i.test(trimmed)) return trimmed;
  const [, scheme, value = ''] = /^(bearer|basic):(.*)$/is.exec(trimmed) ?? [];
  if (scheme?.toLowerCase() === 'basic') return basicAuthorization(value);
  return `Bearer ${scheme === undefined ? trimmed : value}`;
}

/** `Basic base64(user:password)`, from the decoded `user:password`. */
export function basicAuthorization(userAndPassword: string): string {
  return `Basic ${Buffer.from(userAndPassword, 'utf8').toString('base64')}`;
}
