import { FledgeError } from '../errors.js'
import type { PublishMode } from './inputs.js'

export interface EventFacts {
  eventName: string
  /** refs/tags/v1.2.0, refs/heads/main, refs/pull/7/merge */
  ref: string
}

export type PublishDecision = { publish: true; tag: string } | { publish: false; why: string; tag?: string }

/**
 * `auto` publishes on tag pushes only. Pull requests never publish, whatever
 * the input says: their token is read-only for forks, and a PR is a check.
 */
export function decidePublish(mode: PublishMode, explicitTag: string, event: EventFacts): PublishDecision {
  const refTag = event.ref.startsWith('refs/tags/') ? event.ref.slice('refs/tags/'.length) : undefined
  const tag = explicitTag || refTag
  const isPullRequest = event.eventName === 'pull_request' || event.eventName === 'pull_request_target'
  if (mode === 'false') return { publish: false, why: 'publish is false', ...(tag ? { tag } : {}) }
  if (isPullRequest) return { publish: false, why: `a ${event.eventName} event never publishes` }
  if (mode === 'auto') {
    if (refTag && event.eventName === 'push') return { publish: true, tag: explicitTag || refTag }
    return { publish: false, why: 'not a tag push (publish: auto)', ...(tag ? { tag } : {}) }
  }
  if (!tag) {
    throw new FledgeError('publish is true, but there is no tag to release.', {
      key: 'publish',
      fix: 'run on a tag push (on: push: tags: [v*]), or set the tag input.'
    })
  }
  return { publish: true, tag }
}

/** "v1.2.3" → "1.2.3"; other tags stay as they are. */
export function versionFromTag(tag: string): string {
  return /^v\d/.test(tag) ? tag.slice(1) : tag
}
