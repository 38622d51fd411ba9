/**
 * The dialect differences in statement text, in one place. Texts are written in Postgres spelling
 * with `@name` parameters; SQLite gets the casts and collations removed (its columns compare as
 * bytes already) and its own day function. Only fixed text written in this repository is compiled.
 */

import type { Migration } from './migrations.js';

/** `utc_day(col)`: the UTC day (`2026-11-26`) of an instant column. */
const UTC_DAY = /utc_day\(([a-z_]+)\)/g;
/** `utc_hour(col)`: the UTC hour (`2026-11-26T10`) of an instant column. */
const UTC_HOUR = /utc_hour\(([a-z_]+)\)/g;
const CAST = /::[a-z0-9_]+(\[\])?/g;
const PARAM = /@([A-Za-z_][A-Za-z0-9_]*)/g;

/** SQLite keeps `@name` parameters; instants are ISO text, so the day is its first 10 characters. */
export function sqliteText(text: string): string {
  return text.replace(CAST, '').replaceAll(' COLLATE "C"', '').replace(UTC_DAY, 'substr($1, 1, 10)').replace(UTC_HOUR, 'substr($1, 1, 13)');
}

/** Postgres gets `$n` placeholders (one per distinct name, in order of first use) and the names in that order. */
export function postgresText(text: string): { text: string; names: string[] } {
  const names: string[] = [];
  const out = text
    .replace(UTC_DAY, "to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
    .replace(UTC_HOUR, "to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')").replace(PARAM, (_, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text: out, names };
}

/**
 * DDL written with Postgres types, mapped to the SQLite types the schema has always had there.
 * `/*sqlite: …*\/` holds text for SQLite only.
 */
export function sqliteMigration(m: Migration | undefined): string {
  if (m === undefined) return '';
  if (typeof m !== 'string') return m.sqlite;
  const text = m;
  return text
    .replace(/\/\*sqlite: ([^*]*)\*\//g, '$1')
    .replace(/\bBIGINT\b/g, 'INTEGER')
    .replace(/\bJSONB\b/g, 'TEXT')
    .replace(/\bTIMESTAMPTZ\b/g, 'TEXT')
    .replace(/\bBYTEA\b/g, 'BLOB')
    .replace(/\bBOOLEAN\b/g, 'INTEGER')
    .replace(/\bDOUBLE PRECISION\b/g, 'REAL');
}

export function postgresMigration(m: Migration): string {
  if (typeof m !== 'string') return m.postgres;
  return m.replace(/\/\*sqlite: ([^*]*)\*\//g, '');
}
