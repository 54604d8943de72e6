// Connection settings of jobs.yaml: Graph, WordPress and checkpoint storage. Secrets never live here;
// they come from the environment.
import { z } from 'zod';

// No `i` flags: JSON Schema patterns cannot carry them, and editors should accept what we accept.
const guidText = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
export const domainText = '(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}';
const guid = new RegExp(`^${guidText}$`);
const tenantPattern = new RegExp(`^(?:${guidText}|${domainText})$`);
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const clouds = ['global', 'usgov', 'usgovdod', 'china'] as const;

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * Addresses that never leave the machine, given as the WHATWG parser normalises them
 * (0x7f.1 → 127.0.0.1, [0:0::1] → [::1]). Only these may be http://, for local test beds.
 */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

// Every WordPress request carries the application password as HTTP Basic auth, so over
// http:// anyone on the path could read it. The JSON Schema does not carry this rule (an
// editor accepts such a URL); loading the file refuses it.
const siteUrl = httpUrl.superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return; // z.url() has reported it already.
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return;
  ctx.addIssue({
    code: 'invalid_format',
    format: 'url',
    input: value,
    message:
      'must be an https:// URL, because every request carries the application password and http:// sends it in clear text; use https://, or http:// only with a loopback address (127.0.0.0/8, [::1], localhost) for local testing',
  });
});

export const graphFields = {
  tenantId: z
    .string()
    .regex(tenantPattern, {
      error: 'must be a tenant ID (GUID) or a verified domain like contoso.onmicrosoft.com',
    })
    .describe(
      'Entra tenant: its directory (tenant) ID, or a verified domain such as contoso.onmicrosoft.com.',
    ),
  clientId: z
    .string()
    .regex(guid, { error: 'must be the application (client) ID, a GUID' })
    .describe('Application (client) ID of the app registration the sync signs in as.'),
  cloud: z
    .enum(clouds)
    .describe('National cloud of the tenant; selects the Graph and login endpoints. Default: global.'),
  endpoint: httpsUrl.describe(
    "Override of the Microsoft Graph base URL, e.g. for a proxy or a test double. Default: the cloud's Graph endpoint.",
  ),
  authorityHost: httpsUrl.describe(
    "Override of the Entra login (authority) host. Default: the cloud's login endpoint.",
  ),
};

export const graphOverride = z
  .strictObject({
    tenantId: graphFields.tenantId.optional(),
    clientId: graphFields.clientId.optional(),
    cloud: graphFields.cloud.optional(),
    endpoint: graphFields.endpoint.optional(),
    authorityHost: graphFields.authorityHost.optional(),
  })
  .describe(
    'Microsoft Graph connection. Credentials come from the environment (AZURE_CLIENT_SECRET, ' +
      'AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE or GitHub OIDC), never from this file.',
  );

export const wordpressOverride = z
  .strictObject({
    url: siteUrl.describe('Address of the WordPress site, e.g. https://intranet.example.com.').optional(),
    username: z
      .string()
      .min(1)
      .describe('WordPress account the sync signs in as (needs create, edit, promote and delete users).')
      .optional(),
    applicationPasswordEnv: z
      .string()
      .regex(envName, { error: 'must be an environment variable name like WORDPRESS_APP_PASSWORD' })
      .describe(
        "Name of the environment variable holding that account's application password. Default: WORDPRESS_APP_PASSWORD.",
      )
      .optional(),
  })
  .describe('WordPress site. The application password is read from the environment, never from this file.');

export const stateSettings = z
  .strictObject({
    backend: z
      .enum(['file', 'wordpress'])
      .default('file')
      .describe(
        'Where checkpoints and the run lock live: a directory on disk, or the site via the companion plugin.',
      ),
    directory: z
      .string()
      .min(1)
      .default('.entra-wp-sync-state')
      .describe("Directory for the file backend, relative to this file's directory."),
  })
  .describe('Checkpoint storage, shared by all jobs.');
