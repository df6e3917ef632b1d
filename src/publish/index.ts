export { publishRelease } from './publish.js'
export type {
  PublishAsset,
  PublishOptions,
  PublishRequest,
  PublishResult,
  PublishedAsset
} from './publish.js'
export { GitHubReleaser } from './github-releaser.js'
export type { GitHubReleaserOptions } from './github-releaser.js'
export { ReleaseApiError, pickRelease } from './releaser.js'
export type {
  AssetUpload,
  MakeLatest,
  NewRelease,
  Release,
  ReleaseAsset,
  ReleaseUpdate,
  Releaser
} from './releaser.js'
export { BODY_BEGIN, BODY_END, mergeReleaseBody } from './release-body.js'
export { DEFAULT_RETRY_POLICY } from './retry.js'
export type { RetryPolicy } from './retry.js'
