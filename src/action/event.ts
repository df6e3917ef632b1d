import { FledgeError } from '../errors.js'
import type { PublishMode } from './inputs.js'

export interface EventFacts {
  eventName: string
  /** refs/tags/v1.2.0, refs/heads/main, refs/pull/7/merge */
  ref: string
  /** A `release` event's release, from the event payload. */
  release?: EventRelease | undefined
}

export interface EventRelease {
  /** published, created, prereleased, edited, … */
  action: string
  id: number
  tagName: string
}

export type PublishDecision =
  | { publish: true; tag: string; /** Upload to this release (a release event's). */ releaseId?: number }
  | { publish: false; why: string; tag?: string }

/** The release event actions whose release receives the assets. */
const UPLOAD_ACTIONS = ['published', 'created', 'prereleased']

const HOW_TO_PUBLISH =
  "To publish: push a tag (on: push: tags: ['v*']), create a release (on: release: types: [published]), or set publish: true and tag."

/**
 * `auto` publishes tag pushes and release events (to that release). Pull requests never
 * publish, whatever the input says: their token is read-only for forks, and a PR is a check.
 */
export function decidePublish(mode: PublishMode, tagInput: string, event: EventFacts): PublishDecision {
  const explicitTag = tagFromInput(tagInput)
  const refTag = event.ref.startsWith('refs/tags/') ? event.ref.slice('refs/tags/'.length) : undefined
  const release = event.eventName === 'release' ? event.release : undefined
  const tag = explicitTag || release?.tagName || refTag
  const isPullRequest = event.eventName === 'pull_request' || event.eventName === 'pull_request_target'
  if (mode === 'false') return { publish: false, why: 'publish is false', ...(tag ? { tag } : {}) }
  if (isPullRequest) return { publish: false, why: `a ${event.eventName} event never publishes` }
  if (release && (!explicitTag || explicitTag === release.tagName)) {
    if (UPLOAD_ACTIONS.includes(release.action)) return { publish: true, tag: release.tagName, releaseId: release.id }
    return {
      publish: false,
      why: `a release ${release.action} event does not publish (only ${UPLOAD_ACTIONS.join(', ')} do).`,
      tag: release.tagName
    }
  }
  if (mode === 'auto') {
    if (refTag && event.eventName === 'push') return { publish: true, tag: explicitTag || refTag }
    const what = event.ref ? `a ${event.eventName || 'local'} run on ${event.ref}` : `a ${event.eventName || 'local'} run`
    return {
      publish: false,
      why: `${what} is not a tag push or release event, so publish: auto publishes nothing. ${HOW_TO_PUBLISH}`,
      ...(tag ? { tag } : {})
    }
  }
  if (!tag) {
    throw new FledgeError('publish is true, but there is no tag to release.', {
      key: 'publish',
      fix: 'run on a tag push (on: push: tags: [v*]), or set the tag input.'
    })
  }
  return { publish: true, tag }
}

/** The tag input as people write it: `v1.2.0` or `refs/tags/v1.2.0` (`${{ github.ref }}`). */
export function tagFromInput(input: string): string {
  const tag = input.trim()
  if (tag.startsWith('refs/tags/')) return tag.slice('refs/tags/'.length)
  if (tag.startsWith('refs/')) {
    throw new FledgeError(`input tag is "${tag}", a ref that is not a tag.`, {
      key: 'tag',
      fix: 'set tag to a tag name such as v1.2.0 (or refs/tags/v1.2.0), or leave it empty on a tag push.'
    })
  }
  return tag
}

/** A `release` event's release from its payload (GITHUB_EVENT_PATH's JSON). */
export function releaseFromPayload(payload: unknown): EventRelease | undefined {
  const p = payload as { action?: unknown; release?: { id?: unknown; tag_name?: unknown } } | null
  const id = p?.release?.id
  const tagName = p?.release?.tag_name
  if (typeof id !== 'number' || typeof tagName !== 'string') return undefined
  return { action: typeof p?.action === 'string' ? p.action : '', id, tagName }
}

/** "v1.2.3" → "1.2.3"; other tags stay as they are. */
export function versionFromTag(tag: string): string {
  return /^v\d/.test(tag) ? tag.slice(1) : tag
}
