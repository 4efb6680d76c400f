// Module resolution hook: resolves workspace packages (`@audex/*`) to their TypeScript sources through
// the `@audex/source` export condition, so the CLI runs from a checkout without building the packages.
/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('@audex/source')
    ? context.conditions
    : ['@audex/source', ...context.conditions];
  return nextResolve(specifier, { ...context, conditions });
}
