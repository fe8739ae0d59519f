export { buildRecipe, REPRODUCE_ENV, RECIPE_SCHEMA, type RecipeCode, type RecipeDataset, type RecipeFacts, type RecipeMetric, type ReproductionRecipe } from './recipe.js';
export { loadReproductionRecipe } from './load-recipe.js';
export { renderRecipeMarkdown } from './render-recipe.js';
export { compareMetrics, DEFAULT_TOLERANCE, type MetricComparison, type MetricValue, type Tolerance } from './metric-diff.js';
export { findSeed, SEED_KEYS, type SeedFact } from './seed.js';
export { readEnvironment, type LockfileFact, type RuntimeFact } from './environment.js';
export { shellLine, shellQuote } from './shell.js';
