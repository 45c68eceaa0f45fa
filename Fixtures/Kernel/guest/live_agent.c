/*
 * live-agent: the live layer's hands inside a test VM (the guest's init runs it instead of the guest server when
 * the kernel command line says gupc.mode=live). The host's live fixture (Fixtures/LiveKernel, GuestLiveMachine)
 * drives it over the second serial port, one request line and one reply line at a time:
 *
 *   exists PATH          ok 1 | ok 0
 *   read PATH            ok HEX(content)           | fail ERRNO
 *   write PATH HEX       ok                        | fail ERRNO     (the value is hex so it may hold anything)
 *   list DIR             ok NAME NAME ...          | fail ERRNO
 *   mkfile PATH BYTES    ok                        | fail ERRNO     (pseudo-random content, the same every time)
 *   rm PATH              ok                        | fail ERRNO
 *   spawn ID DATAFILE    ok READY-LINE             | fail ...       (a fresh livehelper process: one session)
 *   @ID LINE             the helper's reply line   | exited STATUS  (the helper ended instead of answering)
 *   kill ID              ok                                         (SIGKILL and reap)
 *   {"type":"shutdown"}  (no reply: the agent ends, and init powers the VM off)
 *
 * The first line it writes is {"type":"guest-ready",...}: the VM host forwards nothing before it. Everything a
 * session does happens in its own livehelper process (a fresh mm per command sequence), exactly as on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAXSESSION 64
#define HELPER "/livehelper"

struct session { pid_t pid; FILE *to; FILE *from; };

static struct session sessions[MAXSESSION];
static FILE *port_in, *port_out;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(port_out, fmt, ap);
	va_end(ap);
	fputc('\n', port_out);
	fflush(port_out);
}

static void fail_errno(void)
{
	reply("fail %d", errno);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes HEX in place; -1 when it is not hex of whole bytes. */
static ssize_t unhex(char *s)
{
	size_t n = strlen(s), i;

	if (n % 2)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		s[i] = (char)(hi * 16 + lo);
	}
	s[n / 2] = '\0';
	return (ssize_t)(n / 2);
}

static void do_read(const char *path)
{
	static char buf[1 << 20];
	size_t len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fail_errno();
		return;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			fail_errno();
			return;
		}
		if (n == 0 || len + (size_t)n == sizeof(buf))
			break;
		len += (size_t)n;
	}
	close(fd);
	fputs("ok ", port_out);
	for (size_t i = 0; i < len; i++)
		fprintf(port_out, "%02x", (unsigned char)buf[i]);
	fputc('\n', port_out);
	fflush(port_out);
}

static void do_write(const char *path, char *hex)
{
	ssize_t len = hex ? unhex(hex) : -1;
	int fd;

	if (len < 0) {
		reply("fail bad value");
		return;
	}
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		fail_errno();
		return;
	}
	if (write(fd, hex, (size_t)len) != len) {
		int e = errno;

		close(fd);
		errno = e;
		fail_errno();
		return;
	}
	if (close(fd) != 0) {
		fail_errno();
		return;
	}
	reply("ok");
}

static void do_list(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		fail_errno();
		return;
	}
	fputs("ok", port_out);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			fprintf(port_out, " %s", e->d_name);
	closedir(d);
	fputc('\n', port_out);
	fflush(port_out);
}

static void do_mkfile(const char *path, const char *size)
{
	long bytes = size ? atol(size) : -1;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char block[4096];
	int fd;

	if (bytes <= 0 || bytes % (long)sizeof(block)) {
		reply("fail bad size");
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		fail_errno();
		return;
	}
	for (long done = 0; done < bytes; done += (long)sizeof(block)) {
		for (size_t i = 0; i < sizeof(block); i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(block + i, &x, 8);
		}
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			int e = errno;

			close(fd);
			unlink(path);
			errno = e;
			fail_errno();
			return;
		}
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fail_errno();
		return;
	}
	reply("ok");
}

static struct session *session_of(const char *id)
{
	char *end;
	long n = id ? strtol(id, &end, 10) : -1;

	if (!id || *end || n < 0 || n >= MAXSESSION)
		return NULL;
	return &sessions[n];
}

static void end_session(struct session *s, int sig)
{
	int status;

	if (!s->pid)
		return;
	if (sig)
		kill(s->pid, sig);
	fclose(s->to);
	fclose(s->from);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

static void do_spawn(const char *id, const char *datafile)
{
	struct session *s = session_of(id);
	int in[2], out[2];
	char *line = NULL;
	size_t cap = 0;
	pid_t pid;

	if (!s || !datafile) {
		reply("fail bad spawn");
		return;
	}
	end_session(s, SIGKILL);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		fail_errno();
		return;
	}
	pid = fork();
	if (pid < 0) {
		fail_errno();
		return;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(HELPER, HELPER, datafile, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->pid = pid;
	s->to = fdopen(in[1], "w");
	s->from = fdopen(out[0], "r");
	if (getline(&line, &cap, s->from) <= 0) {
		end_session(s, SIGKILL);
		reply("fail %s exited at start", HELPER);
		free(line);
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	reply("ok %s", line);
	free(line);
}

/* One request to a session's helper and its one reply line, or how the helper ended. */
static void do_relay(const char *id, const char *request)
{
	struct session *s = session_of(id);
	char *line = NULL;
	size_t cap = 0;

	if (!s || !s->pid) {
		reply("fail no session %s", id ? id : "?");
		return;
	}
	fprintf(s->to, "%s\n", request ? request : "");
	fflush(s->to);
	if (getline(&line, &cap, s->from) <= 0) {
		int status = 0;

		fclose(s->to);
		fclose(s->from);
		waitpid(s->pid, &status, 0);
		s->pid = 0;
		reply("exited %d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		free(line);
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	reply("%s", line);
	free(line);
}

static void handle(char *line)
{
	char *save = NULL, *op;

	if (line[0] == '@') {
		char *space = strchr(line, ' ');

		if (space)
			*space = '\0';
		do_relay(line + 1, space ? space + 1 : NULL);
		return;
	}
	op = strtok_r(line, " ", &save);
	if (!op) {
		reply("fail empty request");
	} else if (!strcmp(op, "exists")) {
		reply("ok %d", access(strtok_r(NULL, " ", &save) ?: "", F_OK) == 0);
	} else if (!strcmp(op, "read")) {
		do_read(strtok_r(NULL, " ", &save));
	} else if (!strcmp(op, "write")) {
		char *path = strtok_r(NULL, " ", &save);

		do_write(path, strtok_r(NULL, " ", &save));
	} else if (!strcmp(op, "list")) {
		do_list(strtok_r(NULL, " ", &save));
	} else if (!strcmp(op, "mkfile")) {
		char *path = strtok_r(NULL, " ", &save);

		do_mkfile(path, strtok_r(NULL, " ", &save));
	} else if (!strcmp(op, "rm")) {
		if (unlink(strtok_r(NULL, " ", &save) ?: "") != 0)
			fail_errno();
		else
			reply("ok");
	} else if (!strcmp(op, "spawn")) {
		char *id = strtok_r(NULL, " ", &save);

		do_spawn(id, strtok_r(NULL, " ", &save));
	} else if (!strcmp(op, "kill")) {
		struct session *s = session_of(strtok_r(NULL, " ", &save));

		if (s)
			end_session(s, SIGKILL);
		reply("ok");
	} else {
		reply("fail unknown %s", op);
	}
}

int main(int argc, char **argv)
{
	const char *port = argc > 1 ? argv[1] : "/dev/ttyS1";
	struct termios t;
	struct utsname u;
	char *line = NULL;
	size_t cap = 0;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	fd = open(port, O_RDWR | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "live-agent: cannot open %s: %s\n", port, strerror(errno));
		return 2;
	}
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		tcsetattr(fd, TCSANOW, &t);
	}
	/* The helpers this agent starts must not hold the port. */
	port_in = fdopen(fd, "r");
	port_out = fdopen(fcntl(fd, F_DUPFD_CLOEXEC, 0), "w");
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (!port_in || !port_out)
		return 2;
	uname(&u);
	reply("{\"type\":\"guest-ready\",\"mode\":\"live\",\"kernel\":\"%s\"}", u.release);
	while (getline(&line, &cap, port_in) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (!strncmp(line, "{\"type\":\"shutdown\"", 18))
			break;
		handle(line);
	}
	for (int i = 0; i < MAXSESSION; i++)
		end_session(&sessions[i], SIGKILL);
	free(line);
	return 0;
}
