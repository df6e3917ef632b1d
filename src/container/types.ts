/**
 * A container image as the build uses it (fledge's `[source] image`): fetched,
 * every blob verified by digest, its layers still compressed in local files.
 * `obtainImage` (container/obtain.ts) makes one from a registry reference or a
 * local transport; `applyLayers` (container/layers.ts) turns it into entries.
 */
export interface ImageLayer {
  /** "sha256:<hex>", checked against the bytes of `path`. */
  digest: string
  /** As the manifest gave it (OCI or Docker rootfs media type); the applier also checks the magic. */
  mediaType: string
  size: number
  /** A verified local copy of the (still compressed) blob: in the cache, or in a build temp folder. */
  path: string
}

/** The parts of the image config the build and the manifest generator use. */
export interface ImageConfigSummary {
  os: string
  architecture: string
  variant?: string
  env: string[]
  entrypoint?: string[]
  cmd?: string[]
  workingDir?: string
  user?: string
}

export interface ContainerImage {
  /** As written in fledge.toml's `[source] image`. */
  reference: string
  /** Where it came from, canonical: "registry:127.0.0.1:5000/x/y", "oci-layout:/abs/path", … */
  origin: string
  /** Digest ("sha256:<hex>") of the image manifest chosen (the platform's, under an index): what to pin. */
  digest: string
  /** The reference named a digest; an unpinned tag builds with a warning naming this digest. */
  pinned: boolean
  /** Digest of the image config (docker's image ID): the same whichever transport the image came by. */
  configDigest?: string
  config: ImageConfigSummary
  /** Bottom layer first. */
  layers: ImageLayer[]
  /** Nothing was requested from the network. */
  cacheHit: boolean
}
