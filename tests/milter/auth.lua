-- auth: require on submission (530 without a login), forbid on mx.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

local base = { ["{daemon_name}"] = "submission", ["{tls_version}"] = "TLSv1.3",
	["{client_addr}"] = "192.0.2.1" }
local c = lib.session(base)
lib.expect("submission without login", lib.mail(c, "<alice@example.com>"), "reply")
mt.disconnect(c)

base["{auth_authen}"] = "alice@example.com"
base["{auth_type}"] = "PLAIN"
c = lib.session(base)
lib.expect("submission with login", lib.mail(c, "<alice@example.com>"), "continue")
mt.disconnect(c)

c = lib.session({ ["{daemon_name}"] = "mx", ["{auth_authen}"] = "alice@example.com",
	["{client_addr}"] = "192.0.2.1" })
lib.expect("mx with login", lib.mail(c, "<alice@example.com>"), "reply")
mt.disconnect(c)
c = lib.session({ ["{daemon_name}"] = "mx", ["{client_addr}"] = "192.0.2.1" })
lib.expect("mx without login", lib.mail(c, "<x@remote.test>"), "continue")
mt.disconnect(c)
