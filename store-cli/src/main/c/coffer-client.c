/*
 * coffer-client: runs one coffer command in the command daemon (README, "The command daemon"),
 * over its wire protocol v2 (the daemon's side: store-cli's dev.coffer.cli.DaemonWire). Usage:
 *
 *   coffer-client --run DAEMONS JAR ARGS...  runs ARGS in the daemon of this command's key, whose
 *                                            socket is DAEMONS/<key>.sock (bin/coffer's fast path)
 *   coffer-client --key DAEMONS JAR          prints the key (bin/coffer, starting a daemon)
 *   coffer-client SOCKET ARGS...             runs ARGS in the daemon listening on SOCKET
 *
 * The key names the jar (its real path and modification time), the `java` first on PATH, the
 * umask and the variables libraries read from the process itself, so that a daemon serves only
 * commands a fresh JVM would run alike (daemon_key below); the daemon checks the umask and the
 * variables again. --run and --key exit 125, doing nothing, unless DAEMONS
 * is a directory of the user's own that no one else may enter (as the daemon requires) and the
 * socket's path fits in a Unix socket address.
 *
 * Exit status 125 means nothing was done (no daemon, busy, declined, the connection refused or
 * closed before the daemon accepted the command): bin/coffer then runs the command in a JVM of its
 * own.
 *
 * The request: "CFD2", u32 flags (bit 0: fd 2 is a terminal, bit 1: fd 1, bit 2: fd 0), u32 umask,
 * the working directory, argc and the arguments, envc and the environment ("NAME=value", plus
 * COLUMNS from the terminal on fd 2 when unset); integers u32 big-endian, strings a u32 length and
 * their bytes. The daemon declines a umask other than its own: the files a command creates get the
 * client's umask, as in a JVM of its own.
 * After the request the daemon sends frames (u8 type, u32 big-endian length, payload): A accepted,
 * D declined (reason), O and E bytes for fd 1 and fd 2, R n (read up to n bytes of stdin, answered
 * with one I frame, empty at end of input), X code (the exit status). Otherwise the exit status is
 * the command's; 1 if the daemon goes away after accepting the command. A closed stdout (`| head`)
 * ends the client by SIGPIPE, as a plain run would (141): the closed socket interrupts the command.
 *
 * C99 and POSIX, libc only.
 */
#define _XOPEN_SOURCE 700 /* POSIX.1-2008 with realpath */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define NOTHING_DONE 125
#define MAX_FRAME (1u << 20)
#define MAX_PULL 65536u

extern char **environ;

static const char *socket_path;
static int verbose;
/* This process's umask, read once at the start (a process reads it only by setting it). */
static mode_t client_umask;
static unsigned char buf[65536];

/* Writes all of len bytes, retrying after signals and short writes; -1 with errno on failure. */
static int write_full(int fd, const void *data, size_t len) {
  const unsigned char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads exactly len bytes: 1 done, 0 end of stream (before or within them), -1 error. */
static int read_full(int fd, void *data, size_t len) {
  unsigned char *p = data;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The request, buffered in buf and written in pieces. */
static size_t pending;
static int request_failed;

static void request_bytes(int sock, const void *data, size_t len) {
  const unsigned char *p = data;
  while (len > 0 && !request_failed) {
    size_t room = sizeof buf - pending, n = len < room ? len : room;
    memcpy(buf + pending, p, n);
    pending += n; p += n; len -= n;
    if (pending == sizeof buf) {
      request_failed = write_full(sock, buf, pending) != 0;
      pending = 0;
    }
  }
}

static void request_u32(int sock, uint32_t v) {
  unsigned char b[4];
  put_u32(b, v);
  request_bytes(sock, b, 4);
}

static void request_string(int sock, const char *s) {
  size_t len = strlen(s);
  request_u32(sock, (uint32_t)len);
  request_bytes(sock, s, len);
}

/* Nothing was done: the launcher runs the command without the daemon. */
static void decline(const char *why, const char *detail) {
  if (verbose)
    fprintf(stderr, "coffer: daemon: %s%s%s\n", why, detail ? ": " : "", detail ? detail : "");
  exit(NOTHING_DONE);
}

/* The daemon went away, or broke the protocol, after accepting the command. */
static void lost(void) {
  size_t len = strlen(socket_path);
  if (len > 5 && strcmp(socket_path + len - 5, ".sock") == 0) len -= 5;
  fprintf(stderr, "coffer: the command daemon ended before the command did (see %.*s.log)\n",
          (int)len, socket_path);
  exit(1);
}

static int connect_daemon(const char *path) {
  struct sockaddr_un addr;
  if (strlen(path) >= sizeof addr.sun_path) decline("socket path too long", path);
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  if (sock < 0) decline("socket", strerror(errno));
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
    if (errno != EINTR) decline("connect", strerror(errno));
    /* Interrupted: the connection goes on; wait for it and ask how it went. */
    struct pollfd p = {sock, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    while (poll(&p, 1, -1) < 0)
      if (errno != EINTR) decline("connect", strerror(errno));
    if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
      decline("connect", strerror(err ? err : errno));
  }
  return sock;
}

static void send_request(int sock, int argc, char **argv) {
  char cwd[8192], columns[32];
  struct winsize ws;
  uint32_t envc = 0;
  int add_columns = 0;
  if (getcwd(cwd, sizeof cwd) == NULL) decline("getcwd", strerror(errno));
  if (isatty(2) && getenv("COLUMNS") == NULL && ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    snprintf(columns, sizeof columns, "COLUMNS=%u", (unsigned)ws.ws_col);
    add_columns = 1;
  }
  for (char **e = environ; *e; e++) envc++;
  request_bytes(sock, "CFD2", 4);
  request_u32(sock, (uint32_t)(isatty(2) | isatty(1) << 1 | isatty(0) << 2));
  request_u32(sock, (uint32_t)client_umask);
  request_string(sock, cwd);
  request_u32(sock, (uint32_t)argc);
  for (int i = 0; i < argc; i++) request_string(sock, argv[i]);
  request_u32(sock, envc + (uint32_t)add_columns);
  for (char **e = environ; *e; e++) request_string(sock, *e);
  if (add_columns) request_string(sock, columns);
  if (!request_failed && pending > 0) request_failed = write_full(sock, buf, pending) != 0;
  /* The daemon may have closed the connection at once (declined, or not its user's). */
  if (request_failed) decline("sending the command", strerror(errno));
}

/* Copies len bytes of an O or E frame's payload to fd. */
static void copy_out(int sock, int fd, uint32_t len) {
  static int out_failed;
  while (len > 0) {
    size_t n = len < sizeof buf ? len : sizeof buf;
    if (read_full(sock, buf, n) != 1) lost();
    len -= (uint32_t)n;
    if (out_failed || write_full(fd, buf, n) == 0) continue;
    if (errno == EPIPE && fd == 1) {
      /* What a plain run's closed stdout does: end by SIGPIPE, which closes the socket. */
      signal(SIGPIPE, SIG_DFL);
      raise(SIGPIPE);
      _exit(141);
    }
    /* stderr gone, or stdout failing otherwise: the output is dropped, as a JVM's would be. */
    if (fd == 1) {
      fprintf(stderr, "coffer: writing to stdout: %s\n", strerror(errno));
      exit(1);
    }
    out_failed = 1;
  }
}

/* Answers an R frame: one read of stdin, sent back as an I frame (empty at its end or on error). */
static void pull_stdin(int sock, uint32_t want) {
  unsigned char head[5];
  ssize_t n;
  do n = read(0, buf, want); while (n < 0 && errno == EINTR);
  if (n < 0) n = 0;
  head[0] = 'I';
  put_u32(head + 1, (uint32_t)n);
  if (write_full(sock, head, 5) != 0 || write_full(sock, buf, (size_t)n) != 0) lost();
}

/*
 * The daemon's key. Not a security boundary: the daemon checks the client's environment against
 * its own and declines a mismatch (DaemonPolicy), and notices a rebuilt jar. So any stable 64-bit
 * hash does: FNV-1a, over the lines "jar PATH SECONDS.NANOSECONDS", "java PATH", "umask MASK"
 * (four octal digits) and each keyed variable's "NAME=value", the variables in byte order. With
 * the umask in the key, a client under another umask gets a daemon of its own (started by the
 * launcher, under the same umask) instead of being declined by the first one.
 */
static uint64_t fnv1a(uint64_t hash, const char *s) {
  for (; *s; s++) {
    hash ^= (unsigned char)*s;
    hash *= UINT64_C(0x100000001b3);
  }
  return hash;
}

/* Whether the environment entry "NAME=value" is one a library reads itself: in the key. */
static int keyed(const char *entry) {
  static const char *const named[] = {"HOME", "TMPDIR", "JAVA_HOME", "http_proxy", "https_proxy",
                                      "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "LANG",
                                      "LC_ALL", NULL};
  size_t len = strcspn(entry, "=");
  if (entry[len] != '=') return 0;
  /* The launcher's own, which a command does not see. */
  if ((len == 13 && strncmp(entry, "COFFER_DAEMON", len) == 0) ||
      (len == 18 && strncmp(entry, "COFFER_DAEMON_IDLE", len) == 0))
    return 0;
  if (strncmp(entry, "AWS_", 4) == 0 || strncmp(entry, "COFFER_", 7) == 0) return 1;
  for (const char *const *n = named; *n; n++)
    if (strlen(*n) == len && strncmp(entry, *n, len) == 0) return 1;
  return 0;
}

static int by_bytes(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first executable `java` on PATH, as the shell finds it ("" if none), in a static buffer. */
static const char *java_on_path(void) {
  static char found[4096];
  const char *path = getenv("PATH");
  struct stat st;
  while (path != NULL) {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    /* An empty entry is the working directory. */
    int n = len == 0 ? snprintf(found, sizeof found, "java")
                     : snprintf(found, sizeof found, "%.*s/java", (int)len, path);
    if (n > 0 && (size_t)n < sizeof found && stat(found, &st) == 0 && S_ISREG(st.st_mode) &&
        access(found, X_OK) == 0) {
      if (len == 0) snprintf(found, sizeof found, "./java");
      return found;
    }
    path = end ? end + 1 : NULL;
  }
  return "";
}

/*
 * Writes the key of a command run with jar at JAR into key (17 bytes), after checking that daemons
 * is private to the user and that its socket's path fits; exits 125 if not.
 */
static void daemon_key(const char *daemons, const char *jar, char *key) {
  struct stat st;
  struct sockaddr_un addr;
  char line[128];
  size_t count = 0, n = 0;
  /* The daemon refuses a directory others may enter (or a link to one); so does the client. */
  if (lstat(daemons, &st) != 0) decline("daemon directory", strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
    decline("not a directory private to the user", daemons);
  char *real = realpath(jar, NULL);
  if (real == NULL || stat(real, &st) != 0) decline("the jar", strerror(errno));
  uint64_t hash = UINT64_C(0xcbf29ce484222325);
  hash = fnv1a(fnv1a(fnv1a(hash, "jar "), real), " ");
  snprintf(line, sizeof line, "%lld.%09ld\njava ", (long long)st.st_mtim.tv_sec,
           (long)st.st_mtim.tv_nsec);
  hash = fnv1a(fnv1a(fnv1a(hash, line), java_on_path()), "\n");
  snprintf(line, sizeof line, "umask %04o\n", (unsigned)client_umask);
  hash = fnv1a(hash, line);
  free(real);
  for (char **e = environ; *e; e++) count += (size_t)keyed(*e);
  const char **names = malloc((count + 1) * sizeof *names);
  if (names == NULL) decline("out of memory", NULL);
  for (char **e = environ; *e; e++)
    if (keyed(*e)) names[n++] = *e;
  qsort(names, n, sizeof *names, by_bytes);
  for (size_t i = 0; i < n; i++) hash = fnv1a(fnv1a(hash, names[i]), "\n");
  free(names);
  snprintf(key, 17, "%016llx", (unsigned long long)hash);
  if (strlen(daemons) + 1 + 16 + 5 >= sizeof addr.sun_path)
    decline("socket path too long", daemons);
}

int main(int argc, char **argv) {
  unsigned char head[5];
  int accepted = 0, skip = 2;
  char key[17];
  static char socket_buf[sizeof ((struct sockaddr_un *)0)->sun_path];
  const char *v = getenv("COFFER_DAEMON_VERBOSE");
  verbose = v != NULL && strcmp(v, "1") == 0;
  /* Set and restored before anything is created: the client has one thread. */
  client_umask = umask(0);
  umask(client_umask);
  if (argc >= 4 && strcmp(argv[1], "--key") == 0) {
    daemon_key(argv[2], argv[3], key);
    printf("%s\n", key);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  if (argc >= 4 && strcmp(argv[1], "--run") == 0) {
    daemon_key(argv[2], argv[3], key);
    snprintf(socket_buf, sizeof socket_buf, "%s/%s.sock", argv[2], key);
    socket_path = socket_buf;
    skip = 4;
  } else if (argc >= 2 && strncmp(argv[1], "--", 2) != 0) {
    socket_path = argv[1];
  } else {
    fprintf(stderr, "usage: coffer-client SOCKET ARGS...\n"
                    "       coffer-client --run DAEMONS JAR ARGS...\n"
                    "       coffer-client --key DAEMONS JAR\n");
    return 2;
  }
  /* A closed fd 0, 1 or 2 would otherwise be the socket's. */
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) return 1;
  /* A write to the closed socket fails with EPIPE instead of ending the client. */
  signal(SIGPIPE, SIG_IGN);
  int sock = connect_daemon(socket_path);
  send_request(sock, argc - skip, argv + skip);
  for (;;) {
    int got = read_full(sock, head, 5);
    if (got != 1) {
      if (!accepted) decline("the daemon closed the connection", NULL);
      lost();
    }
    unsigned char type = head[0];
    uint32_t len = get_u32(head + 1);
    if (len > MAX_FRAME) {
      if (!accepted) decline("malformed reply", NULL);
      lost();
    }
    if (!accepted) {
      if (type == 'D') {
        uint32_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
        if (read_full(sock, buf, n) != 1) n = 0;
        buf[n] = '\0';
        decline((const char *)buf, NULL);
      }
      if (type != 'A' || len != 0) decline("malformed reply", NULL);
      accepted = 1;
      continue;
    }
    switch (type) {
      case 'O': copy_out(sock, 1, len); break;
      case 'E': copy_out(sock, 2, len); break;
      case 'R':
      case 'X':
        if (len != 4 || read_full(sock, head, 4) != 1) lost();
        len = get_u32(head);
        if (type == 'X' && len <= 255) {
          /* The socket's time is the daemon's last use (coffer daemon status: "idle since"). */
          utimensat(AT_FDCWD, socket_path, NULL, 0);
          return (int)len;
        }
        if (type != 'R' || len < 1 || len > MAX_PULL) lost();
        pull_stdin(sock, len);
        break;
      default: lost();
    }
  }
}
