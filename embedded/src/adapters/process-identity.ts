/**
 * Which process holds a lease, and whether it still exists: a restarted server takes back the
 * tasks of a predecessor that is gone without waiting for their leases to run out. A process is
 * named by its host, its pid and, on Linux, its start time (so a pid the system gave to another
 * process since is not taken for the old one).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** The process's start time in clock ticks since boot (Linux `/proc/PID/stat`), or null elsewhere. */
  startedAt: string | null;
}

/** Field 22 of `/proc/PID/stat` (after the command name, which may hold spaces and parentheses). */
function linuxStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** This process. */
export function currentProcess(): ProcessIdentity {
  return { host: hostname(), pid: process.pid, startedAt: linuxStartTime(process.pid) };
}

/**
 * Whether a process is known to be gone: it ran on this host and no process has its pid, or the
 * process with its pid started at another time. A process on another host is never known gone.
 */
export function isGone(owner: ProcessIdentity): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the pid exists and belongs to someone else, which may still be the owner.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  if (owner.startedAt === null) return false;
  const startedAt = linuxStartTime(owner.pid);
  return startedAt !== null && startedAt !== owner.startedAt;
}
