/**
 * `[source] dockerfile`: build the image with `docker buildx` (GitHub's runners
 * have it), save it as a docker archive in the build's temp folder and read that
 * like `image = "docker-archive:…"`. Without buildx, one sentence giving the
 * two-line alternative.
 *
 * Why --load and docker save rather than `--output type=oci`: buildx's default
 * `docker` driver (what a runner has unless a workflow sets up another builder)
 * does not support the oci and docker tarball exporters; --load works with every
 * driver, and docker save writes what the docker-archive reader reads.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { FledgeError, type ErrorLocation } from '../errors.js'
import type { Platform } from './manifest.js'
import { obtainImage, type ObtainContext } from './obtain.js'
import type { ContainerImage } from './types.js'

export interface DockerfileBuild {
  /** As written in fledge.toml (for messages and the build record). */
  dockerfile: string
  /** fledge.toml's `context`, default its folder; relative to fledge.toml's folder. */
  context?: string | undefined
  target?: string | undefined
  buildArgs?: Record<string, string> | undefined
}

export interface DockerCommand {
  args: string[]
  /** Failing is not an error (cleaning up). */
  optional?: boolean
}

const platformName = (p: Platform): string =>
  `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`

/** The docker commands, in order, that build `build` for `platform` into `archive`. */
export function dockerBuildCommands(
  build: DockerfileBuild,
  baseDir: string,
  platform: Platform,
  archive: string,
  tag: string
): DockerCommand[] {
  const buildArgs = Object.entries(build.buildArgs ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([name, value]) => ['--build-arg', `${name}=${value}`])
  return [
    {
      args: [
        'buildx',
        'build',
        '--file',
        path.resolve(baseDir, build.dockerfile),
        '--platform',
        platformName(platform),
        ...(build.target ? ['--target', build.target] : []),
        ...buildArgs,
        '--load',
        '--tag',
        tag,
        path.resolve(baseDir, build.context ?? '.')
      ]
    },
    { args: ['save', '--output', archive, tag] },
    { args: ['image', 'rm', tag], optional: true }
  ]
}

function onPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

function run(docker: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(docker, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ ok: !error, output: `${stdout}${stderr}`.trim() })
    )
  })
}

export interface DockerfileContext extends ObtainContext {
  /** Where to look for docker; default the PATH of this process. */
  searchPath?: string | undefined
}

function noBuildx(build: DockerfileBuild, where: ErrorLocation, why: string): FledgeError {
  return new FledgeError(`dockerfile = "${build.dockerfile}" needs docker buildx, and ${why}.`, {
    ...where,
    fix: `build and save the image yourself, then use it: \`docker build -t plugin-image -f ${build.dockerfile} . && docker save -o plugin-image.tar plugin-image\`, and in [source] replace dockerfile with image = "docker-archive:plugin-image.tar".`
  })
}

/** Builds the Dockerfile with docker buildx and reads the result as a docker archive. */
export async function obtainDockerfileImage(
  build: DockerfileBuild,
  context: DockerfileContext
): Promise<ContainerImage> {
  const where = context.where ?? { key: 'dockerfile' }
  const docker = onPath('docker', context.searchPath ?? process.env['PATH'] ?? '')
  if (!docker) throw noBuildx(build, where, 'docker is not on PATH')
  const version = await run(docker, ['buildx', 'version'])
  if (!version.ok)
    throw noBuildx(
      build,
      where,
      `\`docker buildx version\` failed (${version.output.split('\n')[0] || 'no output'})`
    )
  const archive = path.join(context.tempDir, 'dockerfile-image.tar')
  const tag = `fledge-build-${randomBytes(6).toString('hex')}:latest`
  context.log.info(
    `Building ${build.dockerfile} with docker buildx for ${platformName(context.platform)}`
  )
  for (const command of dockerBuildCommands(
    build,
    context.baseDir,
    context.platform,
    archive,
    tag
  )) {
    const result = await run(docker, command.args)
    if (!result.ok && !command.optional) {
      const tail = result.output.split('\n').slice(-5).join(' | ')
      throw new FledgeError(
        `\`docker ${command.args.slice(0, 2).join(' ')}\` for ${build.dockerfile} failed: ${tail || 'no output'}.`,
        {
          ...where,
          fix: 'fix the Dockerfile build (run the same docker buildx build by hand to see the whole log).'
        }
      )
    }
  }
  const image = await obtainImage(`docker-archive:${archive}`, context)
  return {
    ...image,
    reference: `dockerfile:${build.dockerfile}`,
    origin: `dockerfile:${path.resolve(context.baseDir, build.dockerfile)}`
  }
}
