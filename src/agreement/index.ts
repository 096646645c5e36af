export { agreementMethods } from './methods.js';
export { agreementJobHandlers } from './jobs.js';
export { agreementAdminRoutes } from './routes.js';
export { resolveAgreementPayer } from './payer.js';
