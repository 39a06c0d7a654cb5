/** The Restate release whose admin API Tributary mirrors; tools compare against it. */
export const RESTATE_COMPATIBLE_VERSION = '1.7.12';

/** Tributary's own release, as in the root package.json (a unit test keeps them in step). */
export const TRIBUTARY_VERSION = '0.1.0';

export interface VersionView {
  version: string;
  min_admin_api_version: number;
  max_admin_api_version: number;
  /** Restate's feature flags; the official CLI refuses a server without this object. */
  features: Record<string, boolean>;
  server: 'tributary';
  tributary_version: string;
}

export function versionInfo(): VersionView {
  return {
    version: RESTATE_COMPATIBLE_VERSION,
    min_admin_api_version: 2,
    max_admin_api_version: 4,
    features: {},
    server: 'tributary',
    tributary_version: TRIBUTARY_VERSION,
  };
}
