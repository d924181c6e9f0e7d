// What pages share while the console is open (memory only).
export const context = {
  dev: null, // dev mode's credentials (GET /console/dev-credentials), or null
  lastEnvironment: null,
  environmentNames: new Map(),
};
