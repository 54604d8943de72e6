// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration syntax, not a mistaken template.
// ${VAR} substitution in jobs.yaml. It runs after YAML parsing, on the string values of the parsed
// document (never on keys), so a secret containing ":" or "#" cannot change the file's structure.
//   ${VAR}            the variable's value; an error when it is not set
//   ${VAR:-default}   the default when VAR is unset or empty
//   $${               a literal "${"
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter } from 'yaml';
import { formatKeyPath, type KeyPath, type Position, toPosition } from './source-position.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export type EnvIssue = { path: KeyPath; position: Position; message: string };

export type EnvSubstitution = {
  issues: EnvIssue[];
  /** Key paths (formatKeyPath) whose value came, at least in part, from these variables. */
  substituted: Map<string, string[]>;
};

const placeholder = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const variableName = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/** Expands placeholders in one string. Throws nothing: problems are returned with the variable named. */
export function expandString(
  text: string,
  env: Env,
): { value: string; variables: string[]; problems: string[] } {
  const variables: string[] = [];
  const problems: string[] = [];
  const value = text.replace(placeholder, (whole, inner: string | undefined) => {
    if (whole === '$${') return '${';
    if (inner === undefined) {
      problems.push('"${" is not closed by "}" (write $${ for a literal "${")');
      return whole;
    }
    const match = variableName.exec(inner);
    if (!match) {
      problems.push(`"\${${inner}}" is not a variable reference like \${NAME} or \${NAME:-default}`);
      return whole;
    }
    const [, name, fallback] = match;
    variables.push(name!);
    const current = env[name!];
    if (fallback !== undefined) return current ? current : fallback;
    if (current === undefined) {
      problems.push(`environment variable ${name} is not set`);
      return whole;
    }
    return current;
  });
  return { value, variables, problems };
}

/** Substitutes in place every string scalar value of `doc`, keeping node positions for error messages. */
export function substituteEnv(doc: Document, lineCounter: LineCounter, env: Env): EnvSubstitution {
  const issues: EnvIssue[] = [];
  const substituted = new Map<string, string[]>();

  const walk = (node: unknown, path: PropertyKey[]): void => {
    if (isAlias(node)) return; // the anchored node is substituted where it is defined
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) walk(item, [...path, index]);
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const { value, variables, problems } = expandString(node.value, env);
      const position = toPosition(lineCounter, node.range?.[0] ?? 0);
      for (const problem of problems) issues.push({ path, position, message: problem });
      if (variables.length > 0) substituted.set(formatKeyPath(path), variables);
      node.value = value;
    }
  };
  walk(doc.contents, []);
  return { issues, substituted };
}
