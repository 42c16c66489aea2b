"""The policy file a stack runs with: a copy of the caller's, pointed at the stack's ports.

The harness chooses where the milter listens and where Redis runs, so in its
copy it rewrites `socket` in the `milter` block (adding the block when the file
has none) and the host and port of a `rate_store = redis://` URL (keeping a
password and the database number), so a milter never reaches a Redis outside
the stack. Everything else is left as written: the plugins and the milter must
read the file the caller meant.
"""

import re

_BLOCK_OPEN = re.compile(r"^\s*milter\s*\{\s*(#.*)?$")
_SOCKET = re.compile(r"^(\s*)socket\s*=.*$")
_REDIS = re.compile(r"^(\s*rate_store\s*=\s*)redis://(:[^@\s#]*@)?[^/\s#]*(/\d+)?")


def rewrite(text, milter_port, redis_port=None, socket=None):
    """text with the milter socket on 127.0.0.1:milter_port (or socket, in libmilter's
    syntax: inet:PORT@HOST, unix:PATH) and Redis URLs on redis_port."""
    socket = socket or "inet:%d@127.0.0.1" % milter_port
    out = []
    in_milter = False
    saw_milter = False
    socket_set = False
    for line in text.splitlines():
        if not in_milter and _BLOCK_OPEN.match(line):
            in_milter = saw_milter = True
            socket_set = False
            out.append(line)
            continue
        if in_milter:
            if line.strip().startswith("}"):
                if not socket_set:
                    out.append("  socket = %s" % socket)
                in_milter = False
            else:
                m = _SOCKET.match(line)
                if m:
                    line = "%ssocket = %s   # set by the test harness" % (m.group(1), socket)
                    socket_set = True
                elif redis_port:
                    line = _REDIS.sub(lambda m: "%sredis://%s127.0.0.1:%d%s" % (
                        m.group(1), m.group(2) or "", redis_port, m.group(3) or "/0"), line)
        out.append(line)
    if not saw_milter:
        out += ["", "# added by the test harness: where the milter listens",
                "milter {", "  socket = %s" % socket, "}"]
    return "\n".join(out) + "\n"


# Used when the caller names no policy and packaging/mailpolicy.conf is not there yet.
MINIMAL = """# mailpolicy test harness: minimal policy (packaging/mailpolicy.conf not found)
milter {
  socket = inet:8893@127.0.0.1
}
"""
