/* wire-milter.c: an anchor of make bench-milter that does not use
 * libmilter.  It speaks the milter protocol itself, from one thread and
 * one epoll loop, with no allocation per command, so that what it costs
 * Postfix is what Postfix's own milter client costs.
 *
 *   wire-milter [-m] SOCKET
 *
 * Without -m it negotiates every stage away, so Postfix sends it only the
 * option negotiation, the end of message (which no flag can turn off) and
 * QUIT: the ceiling of any milter on this Postfix.  With -m it also takes
 * MAIL, as tests/bench/trivial-milter -m does through libmilter; the two
 * side by side show what libmilter's worker pool costs.  On TCP it also
 * answers DATA, as mailpolicy-milter does there: without a reply at DATA,
 * Postfix's hand-off to cleanup(8) leaves a small segment unanswered and
 * each message waits for a delayed ACK (40 ms).  It answers CONTINUE to
 * everything.  SOCKET is inet:PORT@127.0.0.1 or unix:/PATH.
 * Runs in the foreground; SIGTERM stops it.  Not a part of mailpolicy:
 * only something to measure against. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The protocol's constants (milter protocol version 6). */
#define CMD_OPTNEG 'O'
#define CMD_MAIL 'M'
#define CMD_DATA 'T'
#define CMD_EOM 'E'
#define CMD_QUIT 'Q'
#define REPLY_CONTINUE 'c'
#define P_NOCONNECT 0x1u
#define P_NOHELO 0x2u
#define P_NOMAIL 0x4u
#define P_NORCPT 0x8u
#define P_NOBODY 0x10u
#define P_NOHDRS 0x20u
#define P_NOEOH 0x40u
#define P_NOUNKNOWN 0x100u
#define P_NODATA 0x200u

#define MAX_FD 65536
#define BUF_SIZE 65536

struct conn {
	size_t used;
	unsigned char buf[BUF_SIZE];
};

static struct conn *conns[MAX_FD];
static uint32_t wanted;

static int listen_on(const char *spec)
{
	int fd;

	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(spec + 5) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, spec + 5);
		(void)unlink(sun.sun_path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			return -1;
	} else if (strncmp(spec, "inet:", 5) == 0) {
		struct sockaddr_in sin;
		const char *at = strchr(spec, '@');
		int one = 1;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)atoi(spec + 5));
		if (at == NULL || inet_pton(AF_INET, at + 1, &sin.sin_addr) != 1)
			return -1;
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* accepted sockets inherit it: no reply waits for an ACK */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return -1;
	} else {
		return -1;
	}
	if (listen(fd, 1024) < 0)
		return -1;
	return fd;
}

static bool send_packet(int fd, char cmd, const void *data, uint32_t len)
{
	unsigned char out[64];
	uint32_t n = htonl(len + 1);

	if (len + 5 > sizeof(out))
		return false;
	memcpy(out, &n, 4);
	out[4] = (unsigned char)cmd;
	if (len > 0)
		memcpy(out + 5, data, len);
	return write(fd, out, len + 5) == (ssize_t)(len + 5);
}

/* One whole command: false when the connection is to be closed. */
static bool handle(int fd, char cmd, const unsigned char *data, uint32_t len)
{
	switch (cmd) {
	case CMD_OPTNEG: {
		uint32_t in[3], out[3];

		if (len < 12)
			return false;
		memcpy(in, data, 12);
		out[0] = htonl(6);
		out[1] = 0;
		out[2] = htonl(wanted & ntohl(in[2]));
		return send_packet(fd, CMD_OPTNEG, out, sizeof(out));
	}
	case CMD_QUIT:
		return false;
	case CMD_MAIL:
	case CMD_DATA:
	case CMD_EOM:
		return send_packet(fd, REPLY_CONTINUE, NULL, 0);
	default:
		/* macros, abort, quit-and-new-connection: no reply */
		return true;
	}
}

static bool on_readable(int fd)
{
	struct conn *c = conns[fd];

	for (;;) {
		ssize_t got = read(fd, c->buf + c->used, sizeof(c->buf) - c->used);
		size_t off = 0;

		if (got == 0)
			return false;
		if (got < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		c->used += (size_t)got;
		while (c->used - off >= 5) {
			uint32_t len;

			memcpy(&len, c->buf + off, 4);
			len = ntohl(len);
			if (len == 0 || len > sizeof(c->buf) - 4)
				return false;
			if (c->used - off < 4 + (size_t)len)
				break;
			if (!handle(fd, (char)c->buf[off + 4], c->buf + off + 5,
				    len - 1))
				return false;
			off += 4 + (size_t)len;
		}
		memmove(c->buf, c->buf + off, c->used - off);
		c->used -= off;
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev, events[64];
	int lfd, ep, opt;

	wanted = P_NOCONNECT | P_NOHELO | P_NOMAIL | P_NORCPT | P_NOBODY |
		 P_NOHDRS | P_NOEOH | P_NOUNKNOWN | P_NODATA;
	while ((opt = getopt(argc, argv, "m")) != -1) {
		if (opt != 'm')
			goto usage;
		wanted &= ~P_NOMAIL;
	}
	if (optind != argc - 1)
		goto usage;
	if (strncmp(argv[optind], "inet:", 5) == 0)
		wanted &= ~P_NODATA;
	lfd = listen_on(argv[optind]);
	ep = epoll_create1(0);
	if (lfd < 0 || ep < 0) {
		fprintf(stderr, "wire-milter: cannot listen on %s: %s\n",
			argv[optind], strerror(errno));
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return 1;
	for (;;) {
		int n = epoll_wait(ep, events, 64, -1);

		if (n < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == lfd) {
				int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (cfd < 0 || cfd >= MAX_FD) {
					if (cfd >= 0)
						close(cfd);
					continue;
				}
				if (conns[cfd] == NULL)
					conns[cfd] = malloc(sizeof(struct conn));
				if (conns[cfd] == NULL) {
					close(cfd);
					continue;
				}
				conns[cfd]->used = 0;
				ev.events = EPOLLIN;
				ev.data.fd = cfd;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev) < 0)
					close(cfd);
				continue;
			}
			if (!on_readable(fd)) {
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
			}
		}
	}
usage:
	fprintf(stderr, "usage: wire-milter [-m] SOCKET\n");
	return 2;
}
