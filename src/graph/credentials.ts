// Picks the Entra credential from the environment, using @azure/identity's own variable
// names so that administrators can follow Microsoft's documentation as written.
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { Env } from '../config/env.ts';
import { readVariable } from '../config/environment.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { CloudEndpoints } from './clouds.ts';
import { GitHubOidcCredential } from './github-credential.ts';
import { gitHubOidcAvailable } from './github-oidc.ts';

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
export function selectCredential(target: CredentialTarget, env: Env, logger?: Logger): SelectedCredential {
  const options = {
    authorityHost: target.endpoints.authorityHost,
    // Instance discovery would call login.microsoftonline.com for any other host.
    disableInstanceDiscovery: target.customAuthority,
  };
  const { tenantId, clientId } = target;
  const clientSecret = readVariable(env, 'AZURE_CLIENT_SECRET');
  if (clientSecret) {
    return {
      kind: 'client-secret',
      credential: new ClientSecretCredential(tenantId, clientId, clientSecret, options),
    };
  }
  const certificatePath = readVariable(env, 'AZURE_CLIENT_CERTIFICATE_PATH');
  if (certificatePath) {
    const certificatePassword = readVariable(env, 'AZURE_CLIENT_CERTIFICATE_PASSWORD');
    return {
      kind: 'client-certificate',
      credential: new ClientCertificateCredential(
        tenantId,
        clientId,
        {
          certificatePath,
          ...(certificatePassword ? { certificatePassword } : {}),
        },
        options,
      ),
    };
  }
  const tokenFilePath = readVariable(env, 'AZURE_FEDERATED_TOKEN_FILE');
  if (tokenFilePath) {
    return {
      kind: 'federated-token-file',
      credential: new WorkloadIdentityCredential({
        ...options,
        tenantId,
        clientId,
        tokenFilePath,
      }),
    };
  }
  if (gitHubOidcAvailable(env) || readVariable(env, 'GITHUB_ACTIONS')) {
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
