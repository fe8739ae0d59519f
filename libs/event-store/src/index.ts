export * from './port.js';
export { canonicalJson } from './canonical-json.js';
export { chainHash, GENESIS_HASH, type HashedFields } from './hash-chain.js';
export { handleCommand, loadState, StateCache, type HandleOptions } from './handle-command.js';
export { createSqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store.js';
export { openSqliteDatabase, type SqliteDatabase } from './sqlite/open-database.js';
export { UpcasterRegistry, domainUpcasterRegistry } from './upcasting/upcaster-registry.js';
