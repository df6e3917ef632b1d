import type { KeyPosition } from './locate.js'

export const DEFAULT_BUSYBOX_URL =
  'https://busybox.net/downloads/binaries/1.35.0-x86_64-linux-musl/busybox'
export const DEFAULT_BUSYBOX_SHA256 =
  '6e123e7f3202a8c1e9b1f94d8941580a25135382b99e8d3e34fb858bba311348'
export const AGENT_REPOSITORY = 'volantvm/volant'
export const AGENT_ASSET = 'kestrel'
/** fledge's fixed timestamp (2024-01-01T00:00:00Z) when SOURCE_DATE_EPOCH is not set. */
export const DEFAULT_EPOCH = 1704067200

export type AgentSource =
  | { strategy: 'release'; version: string; repository: string }
  | { strategy: 'local'; path: string }
  | { strategy: 'http'; url: string; sha256?: string }

export type InitMode = { mode: 'default' } | { mode: 'custom'; path: string } | { mode: 'none' }

export interface Mapping {
  /** As written in fledge.toml. */
  source: string
  /** Resolved against fledge.toml's folder. */
  sourcePath: string
  /** Absolute, normalized path inside the image. */
  destination: string
  position?: KeyPosition
}

/** fledge's container inputs in `[source]`: an image reference, or a Dockerfile to build into one. */
export type ContainerSource =
  | { kind: 'image'; reference: string }
  | {
      kind: 'dockerfile'
      /** Resolved against fledge.toml's folder. */
      dockerfile: string
      /** Resolved against fledge.toml's folder; default: fledge.toml's folder. */
      context: string
      target?: string
      buildArgs: Record<string, string>
    }

export interface BuildConfig {
  file: string
  dir: string
  init: InitMode
  /** Default mode only. */
  agent?: AgentSource
  busybox: { url: string; sha256?: string; pinned: boolean }
  /** `[source] image` or `dockerfile`: the image's filesystem is laid down under everything else. */
  container?: ContainerSource
  mappings: Mapping[]
  /** Where each key was written, for errors raised after validation. */
  positions: Map<string, KeyPosition>
}
