// Puts a tenant's users into WordPress with SQL, as the sync would have created them
// (same login, email, names, role and the sync's own meta), so a run finds nothing to do.
// The bench uses it for 100,000 users: through the tool that would take half an hour.
import { loadConfig } from '../src/config/load.ts';
import { toCycleJob } from '../src/engine/cycle-job.ts';
import { metaKeys } from '../src/model/meta-keys.ts';
import type { DesiredUser } from '../src/rules/desired-user.ts';
import { createdManagedFields } from '../src/rules/plan.ts';
import type { FakeTenant } from '../test/fixtures/fake-graph/index.ts';
import type { WordPressStackClient } from '../test/support/wordpress/index.ts';

const sqlText = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/** PHP's serialize() of a list of strings, or of a set (`{"role": true}`) with `asKeys`. */
export function phpSerialize(values: readonly string[], asKeys = false): string {
  const items = values.map((value, index) => {
    const text = `s:${Buffer.byteLength(value)}:"${value}";`;
    return asKeys ? `${text}b:1;` : `i:${index};${text}`;
  });
  return `a:${values.length}:{${items.join('')}}`;
}

/**
 * Inserts the users the job at `configPath` maps from `tenant` into site `siteIndex`,
 * 2,000 a statement, with ids from `firstId`. Returns how many it inserted.
 */
export async function seedWordPress(options: {
  stack: WordPressStackClient;
  siteIndex: number;
  configPath: string;
  env: NodeJS.ProcessEnv;
  tenant: FakeTenant;
  firstId?: number;
}): Promise<number> {
  const config = await loadConfig(options.configPath, options.env);
  const resolved = config.jobs[0]!;
  const job = toCycleJob(resolved, {
    selfId: 1,
    reassignTo: undefined,
    privilegedRoles: new Set(['administrator']),
    siteKeepsMarkers: true,
  });
  const desired = options.tenant
    .users()
    .map((user) => job.mapUser(user))
    .filter((user): user is DesiredUser => 'login' in user);
  const firstId = options.firstId ?? 1000;
  for (let start = 0; start < desired.length; start += 2000) {
    const userRows: string[] = [];
    const metaRows: string[] = [];
    desired.slice(start, start + 2000).forEach((user, offset) => {
      const id = firstId + start + offset;
      const nicename = user.login
        .slice(0, 50)
        .replace(/[^a-z0-9-]/gi, '-')
        .toLowerCase();
      userRows.push(
        `(${id},${sqlText(user.login)},'x',${sqlText(nicename)},${sqlText(user.email)},${sqlText(user.profile.url ?? '')},'2026-01-01 00:00:00',${sqlText(user.profile.name ?? user.login)})`,
      );
      const meta: Record<string, string> = {
        wp_capabilities: phpSerialize(user.roles, true),
        wp_user_level: '0',
        first_name: user.profile.first_name ?? '',
        last_name: user.profile.last_name ?? '',
        nickname: user.profile.nickname ?? user.login,
        description: user.profile.description ?? '',
        ...user.meta,
        [metaKeys.objectId]: user.objectId,
        [metaKeys.jobs]: phpSerialize([resolved.name]),
        [metaKeys.status]: 'active',
        [metaKeys.managedFields]: phpSerialize(createdManagedFields(user, resolved.name)),
      };
      if (user.profile.locale) meta.locale = user.profile.locale.replace('-', '_');
      for (const [key, value] of Object.entries(meta))
        metaRows.push(`(${id},${sqlText(key)},${sqlText(value)})`);
    });
    await options.stack.runSql(
      options.siteIndex,
      `INSERT INTO wp_users (ID,user_login,user_pass,user_nicename,user_email,user_url,user_registered,display_name) VALUES ${userRows.join(',')};
       INSERT INTO wp_usermeta (user_id,meta_key,meta_value) VALUES ${metaRows.join(',')};`,
    );
  }
  return desired.length;
}
