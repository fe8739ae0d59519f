export * from './expression.js';
export * from './gates.js';
export * from './evaluate.js';
export * from './events.js';
export * from './decider.js';
