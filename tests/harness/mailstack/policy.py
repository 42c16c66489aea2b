"""The policy file a stack runs with: a copy of the caller's, pointed at the stack's ports.

The harness chooses where the milter listens and where Redis runs, so in its
copy it rewrites `socket` in the `milter` block (adding the block when the file
has none) and, when Redis runs, the host and port of a `rate_store = redis://`
URL. Everything else is left as written: the plugins and the milter must read
the file the caller meant.
"""

import re

_BLOCK_OPEN = re.compile(r"^\s*milter\s*\{\s*(#.*)?$")
_SOCKET = re.compile(r"^(\s*)socket\s*=.*$")
_REDIS = re.compile(r"^(\s*rate_store\s*=\s*)redis://[^/\s#]*(/\d+)?")


def rewrite(text, milter_port, redis_port=None):
    """text with the milter socket on 127.0.0.1:milter_port and Redis URLs on redis_port."""
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
                    out.append("  socket = inet:%d@127.0.0.1" % milter_port)
                in_milter = False
            else:
                m = _SOCKET.match(line)
                if m:
                    line = "%ssocket = inet:%d@127.0.0.1   # set by the test harness" % (
                        m.group(1), milter_port)
                    socket_set = True
                elif redis_port:
                    line = _REDIS.sub(lambda m: "%sredis://127.0.0.1:%d%s" % (
                        m.group(1), redis_port, m.group(2) or "/0"), line)
        out.append(line)
    if not saw_milter:
        out += ["", "# added by the test harness: where the milter listens",
                "milter {", "  socket = inet:%d@127.0.0.1" % milter_port, "}"]
    return "\n".join(out) + "\n"


# Used when the caller names no policy and packaging/mailpolicy.conf is not there yet.
MINIMAL = """# mailpolicy test harness: minimal policy (packaging/mailpolicy.conf not found)
milter {
  socket = inet:8893@127.0.0.1
}
"""
