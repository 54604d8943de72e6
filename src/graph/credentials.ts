// Picks the Entra credential from the environment, using @azure/identity's own variable
// names so that administrators can follow Microsoft's documentation as written.
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { ActionableError, ExitCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { CloudEndpoints } from './clouds.ts';
import { GitHubOidcCredential } from './github-credential.ts';
import { type GitHubOidcEnvironment, gitHubOidcAvailable } from './github-oidc.ts';

export interface CredentialEnvironment extends GitHubOidcEnvironment {
  AZURE_CLIENT_SECRET?: string | undefined;
  AZURE_CLIENT_CERTIFICATE_PATH?: string | undefined;
  AZURE_CLIENT_CERTIFICATE_PASSWORD?: string | undefined;
  AZURE_FEDERATED_TOKEN_FILE?: string | undefined;
  GITHUB_ACTIONS?: string | undefined;
}

export type CredentialKind = 'client-secret' | 'client-certificate' | 'federated-token-file' | 'github-oidc';

export interface SelectedCredential {
  kind: CredentialKind;
  credential: TokenCredential;
}

export interface CredentialTarget {
  tenantId: string;
  clientId: string;
  endpoints: CloudEndpoints;
  /** True when the authority is not one of Microsoft's own hosts (tests, proxies). */
  customAuthority: boolean;
}

/** `logger` gets what the credential does at debug level (the GitHub token's subject and expiry). */
export function selectCredential(
  target: CredentialTarget,
  env: CredentialEnvironment,
  logger?: Logger,
): SelectedCredential {
  const options = {
    authorityHost: target.endpoints.authorityHost,
    // Instance discovery would call login.microsoftonline.com for any other host.
    disableInstanceDiscovery: target.customAuthority,
  };
  const { tenantId, clientId } = target;
  if (env.AZURE_CLIENT_SECRET) {
    return {
      kind: 'client-secret',
      credential: new ClientSecretCredential(tenantId, clientId, env.AZURE_CLIENT_SECRET, options),
    };
  }
  if (env.AZURE_CLIENT_CERTIFICATE_PATH) {
    return {
      kind: 'client-certificate',
      credential: new ClientCertificateCredential(
        tenantId,
        clientId,
        {
          certificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH,
          ...(env.AZURE_CLIENT_CERTIFICATE_PASSWORD
            ? { certificatePassword: env.AZURE_CLIENT_CERTIFICATE_PASSWORD }
            : {}),
        },
        options,
      ),
    };
  }
  if (env.AZURE_FEDERATED_TOKEN_FILE) {
    return {
      kind: 'federated-token-file',
      credential: new WorkloadIdentityCredential({
        ...options,
        tenantId,
        clientId,
        tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE,
      }),
    };
  }
  if (gitHubOidcAvailable(env) || env.GITHUB_ACTIONS === 'true') {
    return {
      kind: 'github-oidc',
      credential: new GitHubOidcCredential(
        { tenantId, clientId, audience: target.endpoints.federationAudience },
        env,
        options,
        logger,
      ),
    };
  }
  throw new ActionableError('No Entra credential found in the environment.', {
    exitCode: ExitCode.usage,
    hint: 'Set AZURE_CLIENT_SECRET, or AZURE_CLIENT_CERTIFICATE_PATH (+ AZURE_CLIENT_CERTIFICATE_PASSWORD), or AZURE_FEDERATED_TOKEN_FILE; inside GitHub Actions grant `permissions: id-token: write` for OIDC federation.',
  });
}
