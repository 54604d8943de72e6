// A synced site saved once and put back before each case, so that a suite of crashes
// during removals does not pay for creating every user again: the site's database is
// copied table by table (as the test bed's reset does) and the job's state directory
// file by file (into the directory it came from, or a case's own).
import { cp, rm } from 'node:fs/promises';
import { type WordPressSite, wordpressStack, workerSiteIndex } from '../support/wordpress-site.ts';

export interface SavedSite {
  /**
   * Puts the site's database back as it was when saved, and the state directory's files
   * into `into` (by default the directory they were saved from), replacing what it held.
   */
  restore(into?: string): Promise<void>;
  drop(): Promise<void>;
}

const quoted = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

async function tablesOf(site: WordPressSite): Promise<string[]> {
  const out = await wordpressStack().runSql(site.index, 'SHOW TABLES;');
  return out.split('\n').filter(Boolean);
}

function copyStatements(from: string, to: string, tables: readonly string[]): string {
  const statements = [`DROP DATABASE IF EXISTS ${quoted(to)};`, `CREATE DATABASE ${quoted(to)};`];
  for (const table of tables) {
    const name = quoted(table);
    statements.push(`CREATE TABLE ${quoted(to)}.${name} LIKE ${quoted(from)}.${name};`);
    statements.push(`INSERT INTO ${quoted(to)}.${name} SELECT * FROM ${quoted(from)}.${name};`);
  }
  return statements.join('\n');
}

/** Saves this worker's site and the state directory under `name`. */
export async function saveSite(
  site: WordPressSite,
  stateDirectory: string,
  name: string,
): Promise<SavedSite> {
  if (site.index !== workerSiteIndex()) throw new Error(`Site ${site.index} is not this worker's.`);
  const copy = `${site.dbName}_${name}`;
  const tables = await tablesOf(site);
  const stack = wordpressStack();
  await stack.runSql(site.index, copyStatements(site.dbName, copy, tables));
  const savedState = `${stateDirectory}.${name}`;
  await rm(savedState, { recursive: true, force: true });
  await cp(stateDirectory, savedState, { recursive: true });
  return {
    async restore(into = stateDirectory) {
      await stack.runSql(site.index, copyStatements(copy, site.dbName, tables));
      await rm(into, { recursive: true, force: true });
      await cp(savedState, into, { recursive: true });
    },
    async drop() {
      await stack.runSql(site.index, `DROP DATABASE IF EXISTS ${quoted(copy)};`);
      await rm(savedState, { recursive: true, force: true });
    },
  };
}
