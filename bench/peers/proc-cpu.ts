// CPU time of processes from /proc (Linux): utime + stime of each process,
// its threads included, and the process tree to find a server's children.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString());

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces). */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // gone
  }
}

/** CPU seconds (user + system) the processes have used so far; gone ones count 0. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // Fields 14 and 15 of stat(5), counted from the state (field 3) here.
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

export interface ProcessTree {
  descendants(pid: number): number[];
  command(pid: number): string;
}

/** A snapshot of every process's parent and command line. */
export function processTree(): ProcessTree {
  const children = new Map<number, number[]>();
  const commands = new Map<number, string>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const f = statFields(pid);
    if (!f) continue;
    const parent = Number(f[1]);
    children.set(parent, [...(children.get(parent) ?? []), pid]);
    try {
      commands.set(pid, fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      commands.set(pid, '');
    }
  }
  return {
    descendants(pid) {
      const out: number[] = [];
      const walk = (p: number) => {
        for (const c of children.get(p) ?? []) {
          out.push(c);
          walk(c);
        }
      };
      walk(pid);
      return out;
    },
    command: (pid) => commands.get(pid) ?? '',
  };
}
