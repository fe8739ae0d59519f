import './generated/nexus-typegen.js';
export { buildSchema } from './schema.js';
export { commandContext, type GraphQLContext } from './context.js';
export { errorCodes, formatError, codeOf, httpStatusOf } from './errors.js';
