"""The milter's systemd unit as a command line: how the packaged milter is
started in tests of the installed files (tests/packaging/test-packages).

A build directory whose sbin/mailpolicy-milter has a unit file beside it
(sbin/mailpolicy-milter.service) runs the milter the way that unit does:
its ExecStart, with the stack's policy file in place of the unit's -c FILE,
as the unit's User and Group. Anything in the unit that this reading cannot
honour (another Type, several ExecStart lines, $VARIABLES) is a HarnessError:
the test must not run something other than what systemd would.
"""

import shlex

from .procs import HarnessError


def read_service(path):
    """{key: [values]} of a unit file's [Service] section."""
    section = None
    keys = {}
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            if section != "Service" or "=" not in line:
                continue
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def milter_command(path, policy):
    """(argv, user, group) that the unit at path starts, with `-c policy`
    (an inner path) in place of its own policy file. user/group are None when
    the unit runs as root."""
    service = read_service(path)
    kind = (service.get("Type") or ["simple"])[-1]
    if kind not in ("simple", "exec"):
        raise HarnessError("%s: Type=%s: the harness runs only a foreground milter "
                           "(Type=simple or exec)" % (path, kind))
    starts = service.get("ExecStart") or []
    if len(starts) != 1:
        raise HarnessError("%s: %d ExecStart lines, expected one" % (path, len(starts)))
    line = starts[0].lstrip("-")
    if line[:1] in "@:+!" or "$" in line or "%" in line:
        raise HarnessError("%s: ExecStart=%s uses what the harness does not expand" % (
            path, starts[0]))
    argv = shlex.split(line)
    if "-f" not in argv:
        raise HarnessError("%s: ExecStart=%s: no -f, the milter would fork away from "
                           "its service" % (path, starts[0]))
    if "-c" in argv:
        i = argv.index("-c")
        if i + 1 >= len(argv):
            raise HarnessError("%s: ExecStart=%s: -c without a file" % (path, starts[0]))
        argv[i + 1] = policy
    else:
        argv += ["-c", policy]
    user = (service.get("User") or [None])[-1]
    group = (service.get("Group") or [None])[-1]
    return argv, user, group
