// Berth's RuntimeDefault seccomp profile: an allow list equivalent to Docker's default, written
// out by purpose so a reader can see what a container may do; everything else fails with EPERM.
import type { SeccompRule, SeccompTemplate } from "./seccomp-profile.js";

const ALLOW = "SCMP_ACT_ALLOW" as const;

/**
 * Syscalls every container may make. Names a kernel or architecture does not have are
 * skipped by runc, so 32-bit and time64 variants can sit beside the 64-bit ones.
 */
const ALWAYS: Record<string, string[]> = {
  files: [
    "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
    "fdatasync", "flock", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "lchown", "lchown32", "link",
    "linkat", "_llseek", "lseek", "lstat", "lstat64", "mkdir", "mkdirat", "mknod", "mknodat",
    "newfstatat", "open", "openat", "openat2", "pipe", "pipe2", "pread64", "preadv", "preadv2",
    "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "rename",
    "renameat", "renameat2", "rmdir", "sendfile", "sendfile64", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate",
    "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
    "vmsplice", "write", "writev",
  ],
  xattrs: [
    "fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr", "lgetxattr", "listxattr",
    "llistxattr", "lremovexattr", "lsetxattr", "removexattr", "setxattr",
  ],
  events: [
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
    "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "_newselect", "pause", "poll", "ppoll",
    "ppoll_time64", "pselect6", "pselect6_time64", "select", "signalfd", "signalfd4",
  ],
  asyncIo: ["io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl"],
  memory: [
    "brk", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock",
    "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
  ],
  processes: [
    "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "get_robust_list",
    "get_thread_area", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrlimit",
    "getrusage", "getsid", "gettid", "ioprio_get", "ioprio_set", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "pidfd_open", "pidfd_send_signal", "prctl",
    "prlimit64", "process_mrelease", "restart_syscall", "rseq", "seccomp", "set_robust_list",
    "set_thread_area", "set_tid_address", "setpgid", "setpriority", "setrlimit", "setsid", "ugetrlimit",
    "vfork", "wait4", "waitid", "waitpid",
    // Tracing one's own children: Docker allows these on kernels >= 4.8, where seccomp can no
    // longer be bypassed through ptrace; Node 24 itself needs Linux >= 4.18.
    "ptrace", "process_vm_readv", "process_vm_writev",
  ],
  identity: [
    "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getresgid", "getresgid32", "getresuid", "getresuid32", "getuid", "getuid32", "setfsgid",
    "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
    "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
    "setreuid32", "setuid", "setuid32",
  ],
  signals: [
    "kill", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack",
    "sigprocmask", "sigreturn", "tgkill", "tkill",
  ],
  scheduling: [
    "getcpu", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
  ],
  futexes: ["futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake"],
  time: [
    "adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer",
    "gettimeofday", "nanosleep", "setitimer", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
    "times",
  ],
  sockets: [
    "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
    "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
    "sendto", "setsockopt", "shutdown", "socketcall", "socketpair",
  ],
  sysvIpcAndQueues: [
    "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
  ],
  system: ["getrandom", "sysinfo", "uname"],
};

/**
 * Syscalls that need a capability the container holds; without it they stay blocked. Never
 * allowed at all: kexec_*, keyctl/add_key/request_key (keys are not namespaced), userfaultfd,
 * io_uring_*, pivot_root, swapon/swapoff, name_to_handle_at (open_by_handle_at's partner),
 * and the obsolete uselib, ustat, sysfs, _sysctl, nfsservctl.
 */
const BY_CAPABILITY: Record<string, string[]> = {
  CAP_DAC_READ_SEARCH: ["open_by_handle_at"],
  CAP_SYS_ADMIN: [
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
    "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
    "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
  ],
  CAP_SYS_BOOT: ["reboot"],
  CAP_SYS_CHROOT: ["chroot"],
  CAP_SYS_MODULE: ["delete_module", "finit_module", "init_module"],
  CAP_SYS_PACCT: ["acct"],
  CAP_SYS_PTRACE: ["kcmp", "pidfd_getfd", "process_madvise"],
  CAP_SYS_RAWIO: ["ioperm", "iopl"],
  CAP_SYS_TIME: ["clock_settime", "clock_settime64", "settimeofday", "stime"],
  CAP_SYS_TTY_CONFIG: ["vhangup"],
  CAP_SYS_NICE: ["get_mempolicy", "mbind", "migrate_pages", "move_pages", "set_mempolicy", "set_mempolicy_home_node"],
  CAP_SYSLOG: ["syslog"],
  CAP_BPF: ["bpf"],
  CAP_PERFMON: ["perf_event_open"],
};

// clone(2)'s flags that create namespaces: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET.
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const AF_VSOCK = 40;
const ENOSYS = 38;
const EPERM = 1;

/** Rules with conditions on arguments, architecture or missing capabilities. */
const CONDITIONAL: SeccompRule[] = [
  {
    comment: "threads and fork-like clone without new namespaces (s390 swaps the first two arguments)",
    names: ["clone"],
    action: ALLOW,
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
  },
  {
    comment: "clone3 passes flags in memory seccomp cannot read; ENOSYS makes libc fall back to clone",
    names: ["clone3"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: ENOSYS,
    excludes: { caps: ["CAP_SYS_ADMIN"] },
  },
  {
    comment: "sockets of every family but AF_VSOCK, which reaches the hypervisor host",
    names: ["socket"],
    action: ALLOW,
    args: [{ index: 0, value: AF_VSOCK, op: "SCMP_CMP_NE" }],
  },
  // personality(2): PER_LINUX, PER_LINUX32, UNAME26, the last two together, and the 0xffffffff query.
  ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map(
    (persona): SeccompRule => ({ names: ["personality"], action: ALLOW, args: [{ index: 0, value: persona, op: "SCMP_CMP_EQ" }] }),
  ),
  { comment: "x86 thread-local storage and LDT", names: ["arch_prctl", "modify_ldt"], action: ALLOW, includes: { arches: ["amd64", "x32", "386"] } },
  {
    comment: "ARM cache and TLS helpers",
    names: ["arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls", "sync_file_range2"],
    action: ALLOW,
    includes: { arches: ["arm", "arm64"] },
  },
];

/** The profile as a template; compileProfile turns it into OCI for one container's capabilities and arch. */
export const DEFAULT_SECCOMP: SeccompTemplate = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: EPERM,
  archMap: [
    { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
  ],
  syscalls: [
    { comment: "always allowed", names: Object.values(ALWAYS).flat().sort(), action: ALLOW },
    ...CONDITIONAL,
    ...Object.entries(BY_CAPABILITY).map(([cap, names]): SeccompRule => ({ names, action: ALLOW, includes: { caps: [cap] } })),
  ],
};
