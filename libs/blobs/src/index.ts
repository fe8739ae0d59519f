export {
  BlobCorrupted,
  BlobTooLarge,
  validSha256,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type GetOptions,
  type PutOptions,
  type PutResult,
} from './port.js';
export { createLocalBlobStore, type LocalBlobStoreOptions } from './local/local-blob-store.js';
