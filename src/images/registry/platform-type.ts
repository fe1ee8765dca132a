// The OCI image-spec platform object, on its own so the manifest parser (which reads it) and the
// platform matcher (which reads manifests) need not import each other.
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}
