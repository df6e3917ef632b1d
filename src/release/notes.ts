/** The release body: what a plugin user needs to install and verify the image. */
export interface NotesInput {
  pluginName: string
  pluginVersion: string
  artifactName: string
  sha256: string
  contentSha256: string
  size: number
  /** The manifest asset's download URL, for `volar plugins install --manifest`. */
  manifestUrl?: string | undefined
  artifactUrl: string
  repository: string
  tag: string
  toolVersion: string
  sourceDateEpoch: number
  agentTag?: string | undefined
  busyboxSha256: string
  /** `[source] image`: the reference as written and the manifest digest it was built from. */
  image?: { reference: string; digest: string } | undefined
  /** The `files` input's matches, attached beside the image. */
  otherFiles?: readonly { name: string; sha256: string }[] | undefined
  /** Where the build wrote the image and its build record, relative to the repository root. */
  rebuild?: { artifactPath: string; recordPath: string; recordUrl: string; serverUrl: string } | undefined
}

export function releaseNotes(n: NotesInput): string {
  const lines = [
    `## ${n.pluginName} ${n.pluginVersion}`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| Image | \`${n.artifactName}\` (${formatBytes(n.size)}) |`,
    `| Checksum | \`sha256:${n.sha256}\` |`,
    `| Content digest (uncompressed cpio) | \`sha256:${n.contentSha256}\` |`,
    ''
  ]
  if (n.manifestUrl) {
    lines.push('### Install', '', '```bash', `volar plugins install --manifest ${n.manifestUrl}`, '```', '')
  }
  lines.push(
    '### Verify',
    '',
    '```bash',
    `curl -fsSLO ${n.artifactUrl}`,
    `echo "${n.sha256}  ${n.artifactName}" | sha256sum -c -`,
    '```',
    '',
    'All assets are listed in `SHA256SUMS` (`sha256sum -c SHA256SUMS`).',
    ''
  )
  if (n.otherFiles && n.otherFiles.length > 0) {
    lines.push('### Other files', '', '| file | sha256 |', '| --- | --- |')
    for (const f of n.otherFiles) lines.push(`| \`${f.name}\` | \`${f.sha256}\` |`)
    lines.push('')
  }
  lines.push(
    '### Rebuild it yourself',
    '',
    'The image is bit-for-bit reproducible. With the same inputs you get the same bytes:',
    '',
    `- fledge-action ${n.toolVersion}, \`SOURCE_DATE_EPOCH=${n.sourceDateEpoch}\``,
    `- agent: ${n.agentTag ?? 'none (custom or none init mode)'}`,
    `- busybox: \`sha256:${n.busyboxSha256}\``,
    ...(n.image ? [`- container image: \`${n.image.reference}\` at \`${n.image.digest}\``] : []),
    ''
  )
  if (n.rebuild) {
    // Image and record go back where the build wrote them; verify finds the inputs from the record's own folder.
    const r = n.rebuild
    lines.push(
      '```bash',
      `git clone --branch ${n.tag} ${r.serverUrl.replace(/\/+$/, '')}/${n.repository} plugin && cd plugin`,
      `curl -fsSL -o ${r.artifactPath} ${n.artifactUrl}`,
      `curl -fsSL -o ${r.recordPath} ${r.recordUrl}`,
      `git clone --depth 1 --branch v${n.toolVersion} https://github.com/volantvm/fledge-action /tmp/fledge-action`,
      `node /tmp/fledge-action/dist/cli/index.js verify ${r.artifactPath} --record ${r.recordPath}`,
      '```',
      ''
    )
  }
  return lines.join('\n')
}

export function formatBytes(size: number): string {
  if (size < 1000) return `${size} B`
  if (size < 1e6) return `${(size / 1e3).toFixed(1)} kB`
  return `${(size / 1e6).toFixed(2)} MB`
}

/** The format `sha256sum -c` reads: "<hex>  <name>" per line. */
export function sha256sums(files: readonly { name: string; sha256: string }[]): string {
  return files.map((f) => `${f.sha256}  ${f.name}\n`).join('')
}
