// Looks for secrets, in the forms they travel in, in everything a run leaves behind.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One place a secret could leak to: a stream, a file, an email, a database value. */
export interface Output {
  where: string;
  text: string;
}

export interface Secret {
  name: string;
  /** The secret as set, and more specific fragments (a key's body lines). */
  values: string[];
  /** Other forms it is sent in, e.g. base64 of "user:password" for HTTP Basic auth. */
  extraForms?: string[];
}

const base64 = (text: string) => Buffer.from(text).toString('base64').replace(/=+$/, '');
const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** The value itself, URL-encoded (SMTP URLs, query strings) and base64 (headers, attachments, JSON). */
export function formsOf(secret: Secret): string[] {
  const forms = new Set<string>(secret.extraForms ?? []);
  for (const value of secret.values) {
    forms.add(value);
    forms.add(encodeURIComponent(value));
    forms.add(base64(value));
    forms.add(base64url(value));
  }
  // Short forms would match by chance; every real secret here is longer.
  return [...forms].filter((form) => form.length >= 8);
}

/** Tokens are issued at run time, so they are found by shape: a JWT, or a bearer credential. */
export const tokenPatterns: ReadonlyArray<[string, RegExp]> = [
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
  ['a bearer credential', /\bBearer\s+[A-Za-z0-9._~+/-]{16,}/i],
  ['an Authorization header', /authorization["']?\s*[:=]\s*["']?(Basic|Bearer)\s+\S{8,}/i],
];

/** Where each form of the secret was found: "summary.md has it URL-encoded". */
export function leaks(outputs: readonly Output[], secret: Secret): string[] {
  const forms = formsOf(secret);
  // A secret the test failed to fill in would otherwise be "found nowhere".
  if (forms.length === 0) throw new Error(`${secret.name} has no value to look for`);
  const found: string[] = [];
  for (const form of forms) {
    for (const output of outputs) {
      if (output.text.includes(form)) found.push(`${output.where} contains ${JSON.stringify(form)}`);
    }
  }
  return found;
}

export function tokenLeaks(outputs: readonly Output[]): string[] {
  const found: string[] = [];
  for (const [name, pattern] of tokenPatterns) {
    for (const output of outputs) {
      const match = pattern.exec(output.text);
      if (match) found.push(`${output.where} contains ${name}: ${match[0].slice(0, 40)}…`);
    }
  }
  return found;
}

/** Every file under a directory (reports, checkpoints, locks, side files), read as text. */
export async function filesUnder(directory: string, label = directory): Promise<Output[]> {
  const outputs: Output[] = [];
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    outputs.push({ where: `${label}${path.slice(directory.length)}`, text: await readFile(path, 'utf8') });
  }
  return outputs;
}
