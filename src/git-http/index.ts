// Git over smart HTTP: one checked client for every git request x1deploy makes.
export { CheckedHttpClient, RedirectRefusedError, collect, gitAuthHeaders } from './checked-http-client.js';
