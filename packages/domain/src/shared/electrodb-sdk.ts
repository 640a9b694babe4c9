/**
 * The AWS SDK modules ElectroDB `require`s, as a bundled function hands them over.
 *
 * ElectroDB is CommonJS, and it `require`s `@aws-sdk/lib-dynamodb` and `@aws-sdk/util-dynamodb`.
 * When a bundle `require`s an ES module, esbuild turns that module and every module it imports
 * (here the whole AWS SDK, for every client) into closures that run on first use, and a cold
 * start then costs about 25 ms more than with the same SDK imported as ES modules (README,
 * "Cold starts"). So the bundler (`infra/constructs/esbuild.ts`) answers ElectroDB's two
 * `require`s with these objects, and `dynamo.ts`, which every entity's client comes from, fills
 * them from the SDK that the rest of the code imports. ElectroDB reads them only when it sends a
 * request (`lib.GetCommand`, `util.unmarshall`), by which time they are filled.
 *
 * This module imports nothing, so requiring it wraps nothing. Outside bundles (the tests, the
 * local server) ElectroDB requires the SDK itself and nobody reads these.
 */
export const electrodbSdk = {
  '@aws-sdk/lib-dynamodb': {},
  '@aws-sdk/util-dynamodb': {},
} satisfies Record<string, object>;
