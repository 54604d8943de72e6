// Failures on Microsoft's side of the sync (signing in to Entra, reading Graph), told apart
// from WordPress's and the configuration's, so a report never blames one for the other.
import { ActionableError } from '../errors.ts';

/** Entra ID or Microsoft Graph failed, or refused what the sync asked. */
export class EntraError extends ActionableError {
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'EntraError';
  }
}

/** No access token: the credential, the federated credential or Entra's sign-in service. */
export class EntraSignInError extends EntraError {
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'EntraSignInError';
  }
}
