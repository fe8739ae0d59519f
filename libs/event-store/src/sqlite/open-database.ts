import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/**
 * Opens (or creates) a SQLite file the way Chronicle needs it: WAL so readers never block
 * the writer, synchronous=FULL so an acknowledged commit survives a power cut.
 */
export function openSqliteDatabase(path: string, opts: { pageSize?: number } = {}): SqliteDatabase {
  const db = new Database(path);
  // Only a new, empty file takes a page size, before anything (the WAL switch) writes its header.
  if (opts.pageSize !== undefined) db.pragma(`page_size = ${opts.pageSize}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // A 32 MB page cache; no memory-mapped I/O, which would count the file's pages as the server's memory.
  db.pragma('cache_size = -32768');
  db.pragma('mmap_size = 0');
  db.pragma('temp_store = MEMORY');
  return db;
}
