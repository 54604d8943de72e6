// The floor the initial sync is compared with: WordPress's own wp_insert_user in one PHP
// process on the same site, for users like the sync's (login, email, names, role and the
// sync's three meta keys). The users are deleted again afterwards. Their random passwords
// are hashed at the bcrypt cost the plugin gives the sync's own creates on WordPress 6.8+
// (cost 4), so the comparison measures the writes, not two different work factors.
import type { WordPressStackClient } from '../test/support/wordpress/index.ts';
import { cpuBetween, sampleCpu } from './process-cpu.ts';
import { queryCounts } from './tool.ts';

export interface RawInsert {
  users: number;
  seconds: number;
  usersPerSecond: number;
  /** CPU seconds of the PHP process (its own getrusage) and of MariaDB. */
  phpCpuSeconds: number;
  mariadbCpuSeconds: number;
  queries: Record<string, number>;
}

export async function rawInsertUsers(stack: WordPressStackClient, users: number): Promise<RawInsert> {
  const queriesBefore = await queryCounts(stack);
  const cpuBefore = sampleCpu();
  const output = await stack.runPhp(
    0,
    `add_filter('wp_hash_password_options', function ($options, $algorithm) {
      return PASSWORD_BCRYPT === $algorithm ? array_merge($options, array('cost' => ENTRA_WP_SYNC_THROWAWAY_PASSWORD_COST)) : $options;
    }, 10, 2);
    $start = microtime(true);
    for ($i = 0; $i < ${users}; $i++) {
      $login = "raw.bench$i@contoso.com";
      $id = wp_insert_user(array(
        'user_login' => $login, 'user_email' => $login, 'user_pass' => wp_generate_password(24),
        'first_name' => 'Raw', 'last_name' => "Bench $i", 'display_name' => "Raw Bench $i",
        'nickname' => "raw.bench$i", 'role' => 'subscriber',
      ));
      if (is_wp_error($id)) { echo json_encode(array('error' => $id->get_error_message())); exit(1); }
      update_user_meta($id, 'entra_wp_sync_object_id', sprintf('00000000-0000-4000-8000-%012d', $i));
      update_user_meta($id, 'entra_wp_sync_jobs', array('bench'));
      update_user_meta($id, 'entra_wp_sync_status', 'active');
    }
    $usage = getrusage();
    echo json_encode(array(
      'seconds' => microtime(true) - $start,
      'cpu' => $usage['ru_utime.tv_sec'] + $usage['ru_utime.tv_usec'] / 1e6 + $usage['ru_stime.tv_sec'] + $usage['ru_stime.tv_usec'] / 1e6,
    ));`,
  );
  const cpu = cpuBetween(cpuBefore, sampleCpu());
  const queriesAfter = await queryCounts(stack);
  const result = JSON.parse(output.trim().split('\n').pop() ?? '{}') as { seconds: number; cpu: number };
  await stack.runSql(
    0,
    "DELETE m FROM wp_usermeta m JOIN wp_users u ON u.ID = m.user_id WHERE u.user_login LIKE 'raw.bench%'; DELETE FROM wp_users WHERE user_login LIKE 'raw.bench%';",
  );
  return {
    users,
    seconds: result.seconds,
    usersPerSecond: users / result.seconds,
    phpCpuSeconds: result.cpu,
    mariadbCpuSeconds: cpu.mariadb ?? 0,
    queries: Object.fromEntries(
      Object.entries(queriesAfter).map(([name, value]) => [name, value - (queriesBefore[name] ?? 0)]),
    ),
  };
}
