export { encodeManifest, manifestSha256, parseManifest, validateManifestPath, type ManifestEntry } from './manifest.js';
export { summarizeCsv, splitCsvLine, type CsvSummary } from './csv.js';
export { diffManifests, type ManifestDiff, type ModifiedFile, type CsvChange } from './diff.js';
export { createManifestInspector, loadManifest, MAX_TABULAR_FILES } from './inspect.js';
