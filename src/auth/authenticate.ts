/**
 * Turns a request's credentials into the SecurityContext every interaction receives (DESIGN.md
 * decision 7). A bearer token, when present, is always verified. Without one, the request runs as
 * ANONYMOUS only while the server is open: AUTH=off, or AUTH=auto and no client registered.
 */
import type { AuthMode } from '../config';
import { FhirError, issue } from '../fhir/outcome';
import { ANONYMOUS, type SecurityContext } from '../interactions/types';
import { InvalidToken, type AccessTokens } from './access-tokens';
import type { ClientRegistry } from './client-registry';

/** RFC 6750 section 3: the challenge, with an error only when a token was presented. */
export function unauthorized(realm: string, description: string, error?: 'invalid_token' | 'invalid_request'): FhirError {
  const quoted = (s: string) => s.replace(/["\\]/g, "'");
  let challenge = `Bearer realm="${quoted(realm)}"`;
  if (error) challenge += `, error="${error}", error_description="${quoted(description)}"`;
  return new FhirError(401, [issue('error', 'login', description)], { 'WWW-Authenticate': challenge });
}

export class Authenticator {
  constructor(
    private readonly mode: AuthMode,
    private readonly clients: ClientRegistry,
    private readonly tokens: AccessTokens,
  ) {}

  /** Whether a request without a token is refused right now. */
  async required(): Promise<boolean> {
    if (this.mode === 'on') return true;
    if (this.mode === 'off') return false;
    return this.clients.any();
  }

  /**
   * `authorization` is the Authorization header; `baseUrl` the FHIR base URL a token must be
   * issued for. Throws a 401 FhirError with its WWW-Authenticate challenge.
   */
  async authenticate(authorization: string | undefined, baseUrl: string, address: string | undefined): Promise<SecurityContext> {
    if (authorization === undefined) {
      if (await this.required()) throw unauthorized(baseUrl, 'This server requires a bearer access token (SMART Backend Services; see /.well-known/smart-configuration)');
      return address === undefined ? ANONYMOUS : { ...ANONYMOUS, address };
    }
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
    if (!match) throw unauthorized(baseUrl, 'The Authorization header must be "Bearer <access token>"', 'invalid_request');
    try {
      const caller = await this.tokens.verify(match[1], baseUrl);
      return address === undefined ? caller : { ...caller, address };
    } catch (error) {
      if (error instanceof InvalidToken) throw unauthorized(baseUrl, error.message, 'invalid_token');
      throw error;
    }
  }
}
