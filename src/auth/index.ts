/**
 * Authentication as the HTTP layer uses it: the client registry, the token endpoint, the SMART
 * discovery document and the Authenticator that turns a request into its SecurityContext.
 */
import type { ServerConfig } from '../config';
import type { StorageEngine } from '../storage/port';
import { AccessTokens } from './access-tokens';
import { Authenticator } from './authenticate';
import { ClientRegistry } from './client-registry';
import { JtiStore } from './jti-store';
import { loadSigningKey } from './signing-key';
import { requestToken, type TokenResponse } from './token-endpoint';

export { unauthorized } from './authenticate';
export { ClientRegistry, ClientRegistrationError, type ClientRecord } from './client-registry';

/** Where the token endpoint is, below the FHIR base. */
export const TOKEN_PATH = 'auth/token';

export interface AuthService {
  clients: ClientRegistry;
  authenticator: Authenticator;
  /** POST {base}/auth/token with its urlencoded body. */
  token(form: URLSearchParams, baseUrl: string): Promise<TokenResponse>;
}

export async function createAuth(config: ServerConfig, engine: StorageEngine): Promise<AuthService> {
  const clients = new ClientRegistry(engine);
  const jtis = new JtiStore(engine);
  const key = await loadSigningKey(config.dataDir, config.auth.signingKeyFile);
  const tokens = new AccessTokens(key, config.auth.tokenLifetimeSeconds);
  return {
    clients,
    authenticator: new Authenticator(config.auth.mode, clients, tokens),
    token: (form, baseUrl) => requestToken({ clients, jtis, tokens }, form, `${baseUrl}/${TOKEN_PATH}`, baseUrl),
  };
}

/** The SMART configuration document (SMART App Launch 2.x, conformance.html), for Backend Services. */
export function smartConfiguration(baseUrl: string): Record<string, unknown> {
  return {
    token_endpoint: `${baseUrl}/${TOKEN_PATH}`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write'],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  };
}
