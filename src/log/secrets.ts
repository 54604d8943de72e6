// Secrets that appear while a run goes on (tokens fetched mid-run) are announced here so
// that an entry point can mask them (the action registers them with the runner).
type SecretListener = (value: string) => void;

const listeners = new Set<SecretListener>();

export function onSecret(listener: SecretListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function announceSecret(value: string): void {
  for (const listener of listeners) listener(value);
}
