/** The mini program API's route schemas: tagged, open or behind the session's bearer token. */
import { routeSchema } from '../route-schema.js';

export const openRoute = routeSchema('mini program', false);
export const userRoute = routeSchema('mini program', true);
