/** The admin API's route schemas: tagged `admin`, behind the bearer MINIPAY_ADMIN_TOKEN. */
import { routeSchema } from '../route-schema.js';

export const adminRoute = routeSchema('admin', true);
