import type { AttestProvenanceOptions, Attestation } from '@actions/attest'
import { FledgeError } from '../errors.js'

export type Attester = (options: AttestProvenanceOptions) => Promise<Attestation>

export interface ProvenanceRequest {
  subjects: { name: string; sha256: string }[]
  token: string
  /** owner/repo and server, for the attestation's URL. */
  repository: string
  serverUrl: string
}

export interface ProvenanceResult {
  id?: string | undefined
  url?: string | undefined
}

const PERMISSIONS_FIX =
  'add to the job: permissions: { id-token: write, attestations: write, contents: write }. Pull requests from forks cannot sign.'

/**
 * SLSA build provenance for the image and manifest, signed through Sigstore
 * with the job's OIDC identity and stored by GitHub's attestation API.
 */
export async function attestBuild(
  request: ProvenanceRequest,
  attester?: Attester,
  env: NodeJS.ProcessEnv = process.env
): Promise<ProvenanceResult> {
  // GitHub only hands a job these when it has `id-token: write`.
  if (!env['ACTIONS_ID_TOKEN_REQUEST_URL'] || !env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']) {
    throw new FledgeError('attest is true, but the job cannot request an OIDC token (permission id-token: write is missing).', {
      key: 'attest',
      fix: PERMISSIONS_FIX
    })
  }
  // Loaded here, not at the top: @actions/attest brings sigstore (a separate chunk in
  // the bundle), which a run with attest: false never needs to read.
  const attest = attester ?? (await import('@actions/attest')).attestProvenance
  let attestation: Attestation
  try {
    attestation = await attest({
      subjects: request.subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
      token: request.token
    })
  } catch (error) {
    const status = (error as { status?: number }).status
    const message = (error as Error).message ?? String(error)
    if (status === 403 || /403|Resource not accessible/i.test(message)) {
      throw new FledgeError(`GitHub refused to store the attestation (permission attestations: write is missing?): ${message}`, {
        key: 'attest',
        fix: PERMISSIONS_FIX
      })
    }
    throw new FledgeError(`signing the provenance failed: ${message}`, { key: 'attest', fix: 'retry the job; set attest: false to release without provenance.' })
  }
  const id = attestation.attestationID
  return {
    id,
    url: id ? `${request.serverUrl.replace(/\/+$/, '')}/${request.repository}/attestations/${id}` : undefined
  }
}
