// @audex/web's library entry: the web demo server, for `audex web` (@audex/cli) and for embedding.
export { isWebError, WebError, type WebErrorCode } from './errors.js';
export type { LiveMessage } from './server/live-session.js';
export { NO_DEVICE_HINT } from './server/live-session.js';
export {
  checkHost,
  checkPort,
  DEFAULT_WEB_HOST,
  DEFAULT_WEB_PORT,
  startWebDemo,
  WEB_DEMO_SOURCES,
  type WebDemo,
  type WebDemoOptions,
  type WebDemoSource,
} from './server/start-web-demo.js';
export { createWebApp, type WebApp, type WebAppOptions } from './server/web-app.js';
