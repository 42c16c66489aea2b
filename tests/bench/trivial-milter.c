/* trivial-milter.c: the anchors of make bench-milter, two libmilter
 * milters that decide nothing.
 *
 *   trivial-milter [-m] SOCKET
 *
 * Without -m it takes every stage the MTA offers (connect, HELO, MAIL,
 * RCPT, DATA, headers, end of headers, body, end of message, unknown
 * commands) and answers CONTINUE to each, as a milter written without
 * care for the protocol does.  With -m it is the floor of any libmilter
 * milter that decides at MAIL: it negotiates every other stage away and
 * asks for no reply where the protocol allows.  SOCKET is libmilter's
 * (inet:PORT@HOST, unix:/PATH).  Runs in the foreground; SIGTERM stops
 * it.  Not a part of mailpolicy: only something to measure against. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *ctx, char *name)
{
	return SMFIS_CONTINUE;
}

static sfsistat on_args(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	return SMFIS_CONTINUE;
}

static sfsistat on_stage(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	return SMFIS_CONTINUE;
}

static sfsistat on_unknown(SMFICTX *ctx, const char *cmd)
{
	return SMFIS_CONTINUE;
}

/* -m: MAIL only, everything else negotiated away. */
static sfsistat on_negotiate_minimal(SMFICTX *ctx, unsigned long f0,
				     unsigned long f1, unsigned long f2,
				     unsigned long f3, unsigned long *pf0,
				     unsigned long *pf1, unsigned long *pf2,
				     unsigned long *pf3)
{
	unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT |
		SMFIP_NODATA | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY |
		SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_HELO |
		SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH |
		SMFIP_NR_BODY | SMFIP_NR_UNKN;

	*pf0 = 0;
	*pf1 = want & f1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc;
	bool minimal = false;
	int opt;

	while ((opt = getopt(argc, argv, "m")) != -1) {
		if (opt != 'm')
			goto usage;
		minimal = true;
	}
	if (optind != argc - 1)
		goto usage;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)"trivial-milter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_envfrom = on_args;
	desc.xxfi_eom = on_stage;
	desc.xxfi_abort = on_stage;
	desc.xxfi_close = on_stage;
	if (minimal) {
		desc.xxfi_negotiate = on_negotiate_minimal;
	} else {
		desc.xxfi_connect = on_connect;
		desc.xxfi_helo = on_helo;
		desc.xxfi_envrcpt = on_args;
		desc.xxfi_header = on_header;
		desc.xxfi_eoh = on_stage;
		desc.xxfi_body = on_body;
		desc.xxfi_unknown = on_unknown;
		desc.xxfi_data = on_stage;
	}
	if (smfi_register(desc) != MI_SUCCESS ||
	    smfi_setconn(argv[optind]) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "trivial-milter: cannot listen on %s\n",
			argv[optind]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: trivial-milter [-m] SOCKET\n");
	return 1;
}
