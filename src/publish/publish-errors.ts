/** Failed GitHub calls as FledgeErrors: one line saying what failed, why, and what to do. */
import { FledgeError } from '../errors.js'
import { ReleaseApiError } from './releaser.js'
import { DeadlineExceeded } from '../retry.js'
import { RetriesExhausted, isRateLimited } from './retry.js'

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim()

export function permissionError(action: string, detail: string): FledgeError {
  return new FledgeError(
    oneLine(
      `GitHub refused to ${action} (${detail}): the token lacks the "contents: write" permission.`
    ),
    {
      fix:
        'add `permissions: contents: write` to the job (or the workflow). Pull requests from forks only get a ' +
        'read-only GITHUB_TOKEN: publish from tag pushes, releases or workflow_dispatch instead.'
    }
  )
}

/** `error` (from a Releaser call made to `action`) as a FledgeError; other errors unchanged. */
export function toPublishError(error: unknown, action: string): unknown {
  if (error instanceof FledgeError) return error
  if (error instanceof RetriesExhausted) {
    if (error.last instanceof DeadlineExceeded) {
      return new FledgeError(
        oneLine(`Could not ${action}: it did not finish in time (${error.message}, all attempts included).`),
        {
          fix: 're-run the job; if uploads keep timing out, check https://www.githubstatus.com'
        }
      )
    }
    return new FledgeError(oneLine(`Could not ${action}: ${error.message}.`), {
      fix: 'GitHub kept failing; re-run the job (publishing again is safe), and check https://www.githubstatus.com'
    })
  }
  if (!(error instanceof ReleaseApiError)) return error
  if (error.status === 403 && !isRateLimited(error)) return permissionError(action, error.message)
  if (error.status === 401) {
    return new FledgeError(
      oneLine(`GitHub rejected the token while trying to ${action} (${error.message}).`),
      {
        fix: 'pass a valid token (the default is `${{ github.token }}`)'
      }
    )
  }
  if (error.status === 404) {
    return new FledgeError(
      oneLine(
        `GitHub answered 404 while trying to ${action}: the repository does not exist or the token cannot see it (${error.message}).`
      ),
      {
        fix: 'check the repository name, and that the token has access to it with `contents: write`'
      }
    )
  }
  return new FledgeError(oneLine(`Could not ${action}: ${error.message}.`), {
    fix: 're-run the job; publishing again is safe'
  })
}
