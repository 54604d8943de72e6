// The site's run history: the companion plugin keeps each job's newest run records
// (entra-wp-sync/v1/runs) for its Users → Entra ID sync screen. Sites whose plugin
// predates the feature are not asked.
import type { RunHistoryRecord } from '../report/run-record.ts';
import type { CompanionInfo } from './companion.ts';
import type { WordPressClient } from './rest-client.ts';

/** The name the plugin's info route lists when it keeps run records. */
export const runHistoryFeature = 'run-history';

export const runHistoryRoute = '/entra-wp-sync/v1/runs';

export function siteKeepsRunHistory(companion: CompanionInfo | undefined): boolean {
  return companion?.features.includes(runHistoryFeature) ?? false;
}

/**
 * Stores the record. The plugin replaces a record of the same job and run id, so a retried
 * request leaves one record, not two.
 */
export async function postRunRecord(client: WordPressClient, record: RunHistoryRecord): Promise<void> {
  await client.request('POST', runHistoryRoute, { body: record });
}
