/**
 * `npm run client -- <command>`: registers SMART Backend Services clients in the server's database
 * (the same one the server uses, from the same environment variables). A running server sees the
 * change within a few seconds; no restart, no code edit.
 *
 *   add --name "Acme Payer" --jwks public.jwks.json --scope "system/Task.rs" [--group Group/123]
 *   list
 *   remove <client-id>
 *   rotate <client-id> --jwks new.jwks.json     (list old and new keys together to rotate without a gap)
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ClientRegistrationError, ClientRegistry, type ClientRecord } from '../auth';
import { loadConfig } from '../config';
import { openStorageEngine } from '../storage/open-engine';

const USAGE = `Usage: npm run client -- <command>
  add --name "<name>" --jwks <public.jwks.json> --scope "<scopes>" [--group Group/<id>]
  list
  remove <client-id>
  rotate <client-id> --jwks <public.jwks.json>`;

class UsageError extends Error {}

function readJwks(file: string | undefined): unknown {
  if (!file) throw new UsageError('--jwks <file> is required');
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`Cannot read the JWKS in ${file}: ${(error as Error).message}`);
  }
  // A single public JWK is accepted too.
  return value && typeof value === 'object' && 'kty' in value ? { keys: [value] } : value;
}

function describe(client: ClientRecord): string {
  const kids = client.jwks.keys.map((k) => `${k.kid} (${k.alg ?? k.kty})`).join(', ');
  return [`${client._id}  ${client.name}`, `  scope: ${client.scope}`, `  group: ${client.group ?? '(none: every patient)'}`, `  keys:  ${kids}`, `  registered ${client.created}, updated ${client.updated}`].join('\n');
}

async function run(registry: ClientRegistry, args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: 'string' }, jwks: { type: 'string' }, scope: { type: 'string' }, group: { type: 'string' } },
  });
  const [command, id] = positionals;
  switch (command) {
    case 'add': {
      if (!values.name || !values.scope) throw new UsageError('add needs --name, --jwks and --scope');
      const client = await registry.add({ name: values.name, jwks: readJwks(values.jwks), scope: values.scope, group: values.group });
      return `Registered client ${client._id}\n${describe(client)}\nIts client id (the iss and sub of its assertions) is ${client._id}`;
    }
    case 'list': {
      const clients = await registry.list();
      return clients.length ? clients.map(describe).join('\n') : 'No client is registered: the server runs open, on 127.0.0.1 only.';
    }
    case 'remove': {
      if (!id) throw new UsageError('remove needs the client id');
      if (!(await registry.remove(id))) throw new ClientRegistrationError(`No client with id ${id}`);
      return `Removed client ${id}; tokens already issued to it expire within their lifetime.`;
    }
    case 'rotate': {
      if (!id) throw new UsageError('rotate needs the client id');
      return `Rotated the keys of client ${id}\n${describe(await registry.rotate(id, readJwks(values.jwks)))}`;
    }
    default:
      throw new UsageError(command ? `Unknown command "${command}"` : 'No command given');
  }
}

async function main(): Promise<number> {
  const config = loadConfig();
  // Beside a running server: the registry is read from SQLite every time, so it needs no lock.
  const engine = await openStorageEngine(config, { exclusive: false });
  try {
    console.log(await run(new ClientRegistry(engine), process.argv.slice(2)));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof ClientRegistrationError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error((error as Error).message);
      return 1;
    }
    throw error;
  } finally {
    await engine.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`Failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
