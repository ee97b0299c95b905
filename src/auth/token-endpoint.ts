/**
 * The OAuth 2.0 token endpoint of SMART Backend Services (SMART App Launch 2.x,
 * backend-services.html): `client_credentials` with a `private_key_jwt` client assertion (RFC 7523),
 * checked as the specification lists. Answers in OAuth's own JSON (RFC 6749 section 5), which is what
 * OAuth clients parse, not in OperationOutcomes.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { AccessTokens } from './access-tokens';
import { ASSERTION_ALGORITHMS, type ClientRegistry } from './client-registry';
import type { JtiStore } from './jti-store';
import { grantScopes } from './scope-grant';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART: "exp ... no more than five minutes in the future". */
const MAX_ASSERTION_LIFETIME = 300;
const CLOCK_TOLERANCE = 5;

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

type OAuthError = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope';

function refuse(error: OAuthError, description: string): TokenResponse {
  // RFC 6749 5.2: 401 for a client that failed to authenticate, 400 for the rest.
  const status = error === 'invalid_client' ? 401 : 400;
  return { status, body: { error, error_description: description }, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } };
}

export interface TokenEndpointDeps {
  clients: ClientRegistry;
  jtis: JtiStore;
  tokens: AccessTokens;
}

/**
 * `form` is the urlencoded request body; `tokenUrl` is this endpoint's absolute URL (the assertion's
 * required audience) and `fhirBaseUrl` the audience of the token issued. Never throws on input.
 */
export async function requestToken(deps: TokenEndpointDeps, form: URLSearchParams, tokenUrl: string, fhirBaseUrl: string): Promise<TokenResponse> {
  for (const name of ['grant_type', 'client_assertion_type', 'client_assertion', 'scope']) {
    if (form.getAll(name).length > 1) return refuse('invalid_request', `The parameter ${name} is given more than once`);
  }
  if (form.get('grant_type') !== 'client_credentials') {
    return refuse('unsupported_grant_type', 'Only grant_type=client_credentials is supported (SMART Backend Services)');
  }
  if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
    return refuse('invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  }
  const assertion = form.get('client_assertion');
  if (!assertion) return refuse('invalid_request', 'client_assertion is missing');
  const requested = form.get('scope');
  if (!requested?.trim()) return refuse('invalid_scope', 'scope is missing: ask for the scopes you need, e.g. system/Task.rs');

  let header: ReturnType<typeof decodeProtectedHeader>;
  let clientId: unknown;
  try {
    header = decodeProtectedHeader(assertion);
    clientId = decodeJwt(assertion).iss;
  } catch {
    return refuse('invalid_client', 'client_assertion is not a signed JWT');
  }
  if (!header.alg || !(ASSERTION_ALGORITHMS as readonly string[]).includes(header.alg)) {
    return refuse('invalid_client', `The assertion must be signed with ${ASSERTION_ALGORITHMS.join(' or ')}`);
  }
  if (typeof header.kid !== 'string' || !header.kid) return refuse('invalid_client', 'The assertion header must name its key (kid)');
  if (header.jku !== undefined) return refuse('invalid_client', 'jku is not supported: register the JWKS with the client');
  if (typeof clientId !== 'string' || !clientId) return refuse('invalid_client', 'The assertion has no issuer (iss)');
  const client = await deps.clients.get(clientId);
  if (!client) return refuse('invalid_client', 'The client is not registered');

  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks), {
      algorithms: [...ASSERTION_ALGORITHMS],
      issuer: client._id,
      subject: client._id,
      audience: tokenUrl,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE,
    }));
  } catch (error) {
    return refuse('invalid_client', describe(error, tokenUrl));
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = payload.exp as number;
  if (exp > now + MAX_ASSERTION_LIFETIME + CLOCK_TOLERANCE) {
    return refuse('invalid_client', 'The assertion expires more than five minutes from now');
  }
  if (typeof payload.jti !== 'string' || !payload.jti) return refuse('invalid_client', 'The assertion needs a jti');
  if (!(await deps.jtis.remember(client._id, payload.jti, exp + CLOCK_TOLERANCE))) {
    return refuse('invalid_client', 'This assertion (jti) has been used before');
  }

  const granted = grantScopes(client.scope, requested);
  if (granted.length === 0) return refuse('invalid_scope', 'None of the requested scopes is granted to this client');
  const issued = await deps.tokens.issue(client._id, granted, client.group, fhirBaseUrl);
  return {
    status: 200,
    body: { access_token: issued.token, token_type: 'bearer', expires_in: issued.expiresIn, scope: granted.join(' ') },
    headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
  };
}

function describe(error: unknown, tokenUrl: string): string {
  if (error instanceof errors.JWTExpired) return 'The assertion has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return `The assertion's audience (aud) must be the token endpoint, ${tokenUrl}`;
    return `The assertion's "${error.claim}" claim is not valid: ${error.message}`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) return 'No registered key of this client matches the assertion\'s kid and alg';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'Several registered keys match the assertion\'s kid';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The assertion signature is not valid';
  if (error instanceof errors.JOSEAlgNotAllowed) return `The assertion must be signed with ${ASSERTION_ALGORITHMS.join(' or ')}`;
  return 'The assertion is not a valid signed JWT';
}
