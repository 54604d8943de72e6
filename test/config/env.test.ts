// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration syntax, not a mistaken template.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { expandString } from '../../src/config/env.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { clientId, tenantId } from './fixtures.ts';

const file = (username: string, extra = '') => `graph:
  tenantId: ${tenantId}
  clientId: ${clientId}
wordpress:
  url: https://intranet.example.com
  username: ${username}
${extra}jobs:
  - name: staff
    source:
      users: {}
`;

function refusal(text: string, env: Record<string, string>): ConfigError {
  try {
    parseConfigText(text, 'jobs.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('${VAR} substitution', () => {
  it('replaces a variable in a value', () => {
    const config = parseConfigText(file('${WP_USER}'), 'jobs.yaml', { WP_USER: 'sync-bot' });
    expect(config.jobs[0]!.wordpress.username).toBe('sync-bot');
  });

  it('keeps a value with YAML special characters intact', () => {
    const tricky = 'a: b # not a comment, "quotes", {braces} & [brackets] \'\n- dash';
    const config = parseConfigText(file('"${WP_USER}"'), 'jobs.yaml', { WP_USER: tricky });
    expect(config.jobs[0]!.wordpress.username).toBe(tricky);
  });

  it('uses the default of ${VAR:-default} when the variable is unset or empty', () => {
    expect(parseConfigText(file('${WP_USER:-fallback}'), 'j', {}).jobs[0]!.wordpress.username).toBe(
      'fallback',
    );
    expect(
      parseConfigText(file('${WP_USER:-fallback}'), 'j', { WP_USER: '' }).jobs[0]!.wordpress.username,
    ).toBe('fallback');
    expect(
      parseConfigText(file('${WP_USER:-fallback}'), 'j', { WP_USER: 'set' }).jobs[0]!.wordpress.username,
    ).toBe('set');
  });

  it('writes a literal ${ for $${', () => {
    const config = parseConfigText(file('"$${NOT_A_VAR}"'), 'jobs.yaml', {});
    expect(config.jobs[0]!.wordpress.username).toBe('${NOT_A_VAR}');
  });

  it('names the missing variable, the key path and its line and column', () => {
    const error = refusal(file('x', 'state:\n  directory: /var/lib/${STATE_HOME}/sync\n'), {});
    expect(error.message).toBe('jobs.yaml:8:14 state.directory: environment variable STATE_HOME is not set');
    expect(error.hint).toContain('${NAME:-default}');
  });

  it('does not substitute in keys', () => {
    const error = refusal(file('x', 'state:\n  ${KEY}: x\n'), { KEY: 'directory' });
    expect(error.message).toContain('unknown key "${KEY}"');
  });

  it('never quotes a substituted value in an error, since it may be a secret', () => {
    const error = refusal(file('x').replace(clientId, '${CLIENT}'), { CLIENT: 'hunter2-not-a-guid' });
    expect(error.message).toBe(
      'jobs.yaml:3:13 graph.clientId: must be the application (client) ID, a GUID (got the value of ${CLIENT})',
    );
    expect(error.message).not.toContain('hunter2');
  });

  it('reports a placeholder that is not closed or not a name', () => {
    expect(expandString('a ${OPEN', {}).problems).toEqual([
      '"${" is not closed by "}" (write $${ for a literal "${")',
    ]);
    expect(expandString('${1BAD}', {}).problems[0]).toContain('is not a variable reference');
  });
});
