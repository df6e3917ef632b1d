export { writeFileAtomic, type AtomicData } from './atomic.js'
export { normalizeChecksum } from './checksum.js'
export { COMMAND_LINE_LIMIT, commandLineFits, VOLANTD_BASE_PARAMETERS } from './cmdline.js'
export { encodeVolantManifest } from './volant-encode.js'
export { checkCommandLine, estimateCommandLine, type CommandLineEstimate } from './cmdline-check.js'
export {
  generateManifest,
  generateManifestFromToml,
  type ArtifactRef,
  type GeneratedManifest
} from './generate.js'
export { rewriteManifest, type ManifestChanges } from './rewrite.js'
export { MANIFEST_SCHEMA_ID, manifestSchema } from './schema.js'
export { assertValidManifest, validateManifest, type ManifestProblem } from './validate.js'
export {
  planFromTemplate,
  precheckPluginManifest,
  validateManifestSource,
  writePluginManifest,
  type ManifestPlan,
  type ManifestValues,
  type WrittenManifest
} from './artifact.js'
