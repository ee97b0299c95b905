/**
 * On whose behalf a Subscription notifies: the registered client that last wrote it (meta.source,
 * which the server stamps on every client's write), with the scopes and Group it is registered with
 * now. A notification then never carries what that client could not read itself. A Subscription
 * written while the server ran open notifies unrestricted only while the server still runs open.
 */
import type { Subscription } from '@medplum/fhirtypes';
import { ANONYMOUS, type SecurityContext } from '../interactions/types';

/** The client registry as the owner lookup needs it (src/auth provides it). */
export interface ClientDirectory {
  get(id: string): Promise<{ scope: string; group?: string } | null>;
  /** Whether requests need a token now (false while the server runs open). */
  required(): Promise<boolean>;
}

const CLIENT_SOURCE = 'urn:mtm-fhir:client:';

export function subscriptionOwners(clients: ClientDirectory): (subscription: Subscription) => Promise<SecurityContext | { refused: string }> {
  return async (subscription) => {
    const source = subscription.meta?.source;
    if (source?.startsWith(CLIENT_SOURCE)) {
      const id = decodeURIComponent(source.slice(CLIENT_SOURCE.length));
      const client = await clients.get(id);
      if (!client) return { refused: 'the client that wrote this Subscription is no longer registered' };
      return { principal: id, scopes: client.scope.split(/\s+/).filter(Boolean), ...(client.group ? { group: client.group } : {}) };
    }
    if (!(await clients.required())) return ANONYMOUS;
    return { refused: 'this Subscription was written by no registered client; a registered client must write it again' };
  };
}
