import { runTool } from "./exec.js";

/** What git says about the commit being built (the same facts Go's -buildvcs stamps). */
export interface GitInfo {
  commit: string;
  shortCommit: string;
  /** The tag pointing at HEAD (the newest when several), or null. */
  tag: string | null;
  /** Uncommitted changes, untracked files included (as Go's vcs.modified counts them). */
  dirty: boolean;
  /** The commit's committer time, in seconds since the epoch. */
  commitTime: number;
}

/** null when `dir` is not inside a git work tree (or git is not installed). */
export async function gitInfo(dir: string, env: Record<string, string | undefined>): Promise<GitInfo | null> {
  const git = async (...args: string[]) => {
    try {
      const r = await runTool(["git", "-C", dir, ...args], { cwd: dir, env });
      return r.code === 0 ? r.stdout.trim() : null;
    } catch {
      return null; // git not installed: no VCS facts, the NO_VCS warning says so
    }
  };
  const head = await git("log", "-1", "--format=%H %ct");
  if (!head) return null;
  const [commit, time] = head.split(" ");
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return null;
  const tags = await git("tag", "--points-at", "HEAD", "--sort=-creatordate");
  const status = await git("status", "--porcelain");
  return {
    commit,
    shortCommit: commit.slice(0, 7),
    tag: tags ? (tags.split("\n")[0] ?? null) : null,
    dirty: status !== null && status !== "",
    commitTime: Number(time),
  };
}
